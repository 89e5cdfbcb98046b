import type { AlertmanagerProps } from './alertmanager/alertmanager';
import type { GrafanaProps } from './grafana/grafana';
import type { KubeStateMetricsProps } from './kube-state-metrics/kube-state-metrics';
import type { DynamicRoutingProps } from './nginx/compose';
import type { NodeExporterProps } from './node-exporter/node-exporter';
import type { PrometheusProps } from './prometheus/prometheus';
import type { RedisProps } from './redis/redis';

/** What an environment sets for its Grafana: Grafana's props, less the wiring the chart does. */
export type GrafanaSettings = Partial<Omit<GrafanaProps, 'prometheus'>>;

/**
 * One deployment target of the stack, the props of an EnvironmentChart or a PlatformChart. Each
 * system's settings are that construct's own props, spread over the chart's defaults (one way for
 * every system): `{ ...chartDefaults, ...environment.redis }`.
 */
export interface EnvironmentConfig {
  /** Environment name: chart id, folder under dist/, the environment label, and a prefix of cluster-wide names. */
  readonly name: string;
  /**
   * Namespace of every namespaced object of this environment; it also starts every cluster-wide
   * name, so two apps or environments must not share one.
   * @default `platform-<name>`
   */
  readonly namespace?: string;
  /**
   * The cluster this environment is deployed to. Environments of one app that name the same cluster
   * are checked together at synth for what a cluster gives out once: node ports (one Service each)
   * and host ports (one pod per node: node-exporter's).
   * @default - the environment's name: a cluster of its own
   */
  readonly cluster?: string;
  /**
   * Prometheus of this environment: intervals, retention, storage, resources, exposure, kube-state-metrics.
   * @default - the Prometheus defaults, with the environment as external label `environment`
   */
  readonly prometheus?: PrometheusProps;
  /**
   * Namespaces whose Prometheus may scrape this environment's pods (NetworkPolicy ingress on their
   * metrics ports).
   * @default - this environment's namespace, or the shared Prometheus's when the chart is given one
   */
  readonly metricsScraperNamespaces?: readonly string[];
  /**
   * Redis of this environment: preset, volume, resources, password.
   * @default - durable, 1Gi volume on the default StorageClass, no password
   */
  readonly redis?: RedisProps;
  /**
   * Grafana settings (admin credentials, anonymous access, storage, resources, exposure, dashboards).
   * @default - the shipped dashboards, emptyDir storage, anonymous access off, admin credentials in Secret `<name>-grafana-admin` (keys admin-user, admin-password)
   */
  readonly grafana?: GrafanaSettings;
  /**
   * NGINX with its dynamic router: backends (the allowlist), rules, replicas, decision cache, exposure.
   * @default - none in this environment
   */
  readonly nginx?: DynamicRoutingProps;
  /**
   * An Alertmanager (construct id `alertmanager`) the chart's Prometheus sends its alerts to.
   * @default - none: alerts are sent nowhere
   */
  readonly alertmanager?: AlertmanagerProps;
  /**
   * kube-state-metrics (construct id `kube-state-metrics`), scraped by the chart's Prometheus: the
   * `kube_*` series of the pods dashboard's "/ limit" panels.
   * @default {} (the defaults); `false` for none (the cluster runs its own: give it to `prometheus.kubeStateMetrics`)
   */
  readonly kubeStateMetrics?: KubeStateMetricsProps | false;
  /**
   * node-exporter (construct id `node-exporter`), a DaemonSet in a namespace of its own
   * (`<namespace>-node-exporter`, Pod Security "privileged": it reads the host), scraped by the
   * chart's Prometheus. One per cluster: environments that share a cluster keep it in one of them
   * (two on one node would collide on the host port; the synth refuses two in one `cluster`).
   * @default {} (the defaults); `false` for none
   */
  readonly nodeExporter?: NodeExporterProps | false;
}
