// A typed model of prometheus.yml: the part of
// https://prometheus.io/docs/prometheus/3.16/configuration/configuration/ this stack uses. Field
// names are the file's own (snake_case), so the Prometheus documentation applies as written and the
// model serializes to YAML without a mapping layer. The tests check it with promtool 3.16, built
// with Kubernetes discovery (`npm run engines`).

/** The whole prometheus.yml. */
export interface PrometheusConfig {
  readonly global: PrometheusGlobalConfig;
  /** Rule file globs, relative to the directory of prometheus.yml. */
  readonly rule_files?: readonly string[];
  readonly scrape_configs: readonly ScrapeConfig[];
  /** Where alerts go. */
  readonly alerting?: AlertingConfig;
}

/** The `alerting` block: the Alertmanagers every firing alert is sent to. */
export interface AlertingConfig {
  readonly alertmanagers: readonly { readonly static_configs: readonly { readonly targets: readonly string[] }[] }[];
}

/** The `global` block: defaults for every job and rule group. */
export interface PrometheusGlobalConfig {
  /** How often targets are scraped. */
  readonly scrape_interval?: string;
  /** How long a scrape may take; at most scrape_interval. */
  readonly scrape_timeout?: string;
  /** How often rules are evaluated. */
  readonly evaluation_interval?: string;
  /** Labels added to every series and alert leaving this Prometheus (federation, remote write, Alertmanager). */
  readonly external_labels?: Readonly<Record<string, string>>;
}

/** One `scrape_configs` entry: a job and how to find and scrape its targets. */
export interface ScrapeConfig {
  /** The job name, unique in the config; it becomes the `job` label. */
  readonly job_name: string;
  /** Overrides the global scrape interval for this job. */
  readonly scrape_interval?: string;
  /** Overrides the global scrape timeout for this job; at most its scrape interval. */
  readonly scrape_timeout?: string;
  /** HTTP path of the metrics (default `/metrics`). */
  readonly metrics_path?: string;
  /** `http` (default) or `https`. */
  readonly scheme?: 'http' | 'https';
  /** Keep the target's own `job`/`instance` labels on conflict (federation, Pushgateway). */
  readonly honor_labels?: boolean;
  /** Per-scrape limit of samples; the scrape fails above it. 0 means no limit. */
  readonly sample_limit?: number;
  /** Credentials sent with each scrape. */
  readonly authorization?: ScrapeAuthorization;
  /** TLS settings of the scrape. */
  readonly tls_config?: ScrapeTlsConfig;
  /** Targets discovered from the Kubernetes API. */
  readonly kubernetes_sd_configs?: readonly KubernetesSdConfig[];
  /** Targets listed by hand. */
  readonly static_configs?: readonly StaticScrapeConfig[];
  /** Rewrites of the discovered targets' labels, before the scrape. */
  readonly relabel_configs?: readonly RelabelConfig[];
  /** Rewrites of the scraped series' labels, before storage. */
  readonly metric_relabel_configs?: readonly RelabelConfig[];
}

/** The `authorization` block of an HTTP client. */
export interface ScrapeAuthorization {
  /** Header scheme (default `Bearer`). */
  readonly type?: string;
  /** File holding the credentials, read at each scrape (so a rotated token is picked up). */
  readonly credentials_file: string;
}

/** The `tls_config` block of an HTTP client. */
export interface ScrapeTlsConfig {
  /** CA certificate to verify the server with. */
  readonly ca_file?: string;
  /** Server name to verify, when it differs from the target host. */
  readonly server_name?: string;
  /** Skip server verification. Never set by this stack. */
  readonly insecure_skip_verify?: boolean;
}

/** The Kubernetes object kinds service discovery can list. */
export type KubernetesSdRole = 'node' | 'service' | 'pod' | 'endpoints' | 'endpointslice' | 'ingress';

/** Every `KubernetesSdRole`, for validation. */
export const KUBERNETES_SD_ROLES: readonly KubernetesSdRole[] = ['node', 'service', 'pod', 'endpoints', 'endpointslice', 'ingress'];

/** One `kubernetes_sd_configs` entry. Prometheus in a pod uses its service account: no api_server needed. */
export interface KubernetesSdConfig {
  readonly role: KubernetesSdRole;
  /** Namespaces to watch (default: all). */
  readonly namespaces?: { readonly own_namespace?: boolean; readonly names?: readonly string[] };
}

/** One `static_configs` entry. */
export interface StaticScrapeConfig {
  /** `host:port` of each target. */
  readonly targets: readonly string[];
  /** Labels added to every target of this entry. */
  readonly labels?: Readonly<Record<string, string>>;
}

/** What a relabel rule does. */
export type RelabelAction = 'replace' | 'keep' | 'drop' | 'keepequal' | 'dropequal' | 'hashmod' | 'labelmap' | 'labeldrop' | 'labelkeep' | 'lowercase' | 'uppercase';

/** Every `RelabelAction`, for validation. */
export const RELABEL_ACTIONS: readonly RelabelAction[] = ['replace', 'keep', 'drop', 'keepequal', 'dropequal', 'hashmod', 'labelmap', 'labeldrop', 'labelkeep', 'lowercase', 'uppercase'];

/** Actions that write `target_label`, which they therefore require. */
export const ACTIONS_NEEDING_TARGET: readonly RelabelAction[] = ['replace', 'hashmod', 'lowercase', 'uppercase', 'keepequal', 'dropequal'];

/** One relabel rule (`relabel_configs` / `metric_relabel_configs`). */
export interface RelabelConfig {
  /** Labels whose values, joined by `separator`, are matched against `regex`. */
  readonly source_labels?: readonly string[];
  /** Joins the source label values (default `;`). */
  readonly separator?: string;
  /** Label written by replace, hashmod, lowercase and uppercase. */
  readonly target_label?: string;
  /** RE2 regex, anchored at both ends (default `(.*)`). */
  readonly regex?: string;
  /** Modulus of hashmod. */
  readonly modulus?: number;
  /** Value written by replace; `$1` or `${1}` refer to regex groups (default `$1`). */
  readonly replacement?: string;
  /** What to do (default `replace`). */
  readonly action?: RelabelAction;
}
