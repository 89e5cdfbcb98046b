import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { SecretKeyRef } from './validation';

/**
 * What a client needs to reach Prometheus. The Prometheus construct implements it; Grafana and
 * others take it, so they are wired to a construct rather than a URL string.
 */
export interface IPrometheusEndpoint {
  /**
   * The Service in front of Prometheus.
   * @default - a Prometheus of another app
   */
  readonly service?: kplus.Service;
  /** The Service port of the HTTP API. */
  readonly port: number;
  /** In-cluster URL of the HTTP API, e.g. `http://dev-prometheus.platform-dev.svc:9090`. */
  readonly url: string;
  /**
   * The pods behind `service`: clients are let through NetworkPolicies to these (see `allowConnection`).
   * @default - a Prometheus of another app: clients may connect to any address on `port`, and that app admits them
   */
  readonly workload?: kplus.Workload;
  /**
   * How often Prometheus scrapes (Grafana's `$__rate_interval` spans four of them).
   * @default - unknown: Grafana assumes 30 seconds
   */
  readonly scrapeInterval?: Duration;
}

/** A Redis user and its password: what a client logs in with (`AUTH <username> <password>`). */
export interface RedisCredentials {
  /** The Redis user name. */
  readonly username: string;
  /** Its password's Secret key, to mount as a file. */
  readonly password: SecretKeyRef;
}

/** What a client needs to reach Redis. The Redis construct implements it; the router takes it. */
export interface IRedisEndpoint {
  /** The client Service in front of Redis. */
  readonly service: kplus.Service;
  /** The Service port clients connect to. */
  readonly port: number;
  /** In-cluster host name of the client Service, e.g. `dev-redis.platform-dev.svc`. */
  readonly host: string;
  /** Whether clients must log in with a user name and password (RedisCredentials). */
  readonly requiresAuth: boolean;
  /** The pods behind `service`: clients are let through NetworkPolicies to these (see `allowConnection`). */
  readonly workload: kplus.Workload;
}

/**
 * A Prometheus that runs outside this app (another team's app, or one installed otherwise), by its
 * in-cluster URL, for Grafana or a PlatformChart to query. NetworkPolicies: clients may connect to
 * any address on its port; that Prometheus's own policies must admit them.
 */
export function prometheusEndpoint(url: string, options: { readonly scrapeInterval?: Duration } = {}): IPrometheusEndpoint {
  const match = /^https?:\/\/[^/:]+(?::(\d+))?(\/.*)?$/.exec(url);
  const port = match?.[1] !== undefined ? Number(match[1]) : url.startsWith('https:') ? 443 : 80;
  return { url, port, scrapeInterval: options.scrapeInterval };
}

/** What Prometheus needs to send alerts to an Alertmanager: every replica, each by its address. */
export interface IAlertmanagerEndpoint {
  /** `host:port` of each Alertmanager pod (every replica gets every alert; they deduplicate). */
  readonly podAddresses: readonly string[];
  /** The pods: Prometheus is let through NetworkPolicies to these on `port`... */
  readonly workload: kplus.Workload;
  /** ...the container port of the HTTP API. */
  readonly containerPort: number;
}

/** What Prometheus needs to scrape kube-state-metrics. The KubeStateMetrics construct implements it. */
export interface IKubeStateMetricsEndpoint {
  /** In-cluster host name of its Service, e.g. `dev-kube-state-metrics.platform-dev.svc`. */
  readonly host: string;
  /** The Service port of the metrics. */
  readonly port: number;
  /**
   * The pods: Prometheus is let through NetworkPolicies to these on `containerPort`.
   * @default - one of another app: that app admits Prometheus
   */
  readonly workload?: kplus.Workload;
  /** The container port of the metrics, with `workload`. */
  readonly containerPort?: number;
}

/** What Prometheus needs to scrape node-exporter. The NodeExporter construct implements it. */
export interface INodeExporterEndpoint {
  /** The namespace of its pods, where Prometheus discovers them. */
  readonly namespace: string;
  /** The port it serves on, on each node's address. */
  readonly port: number;
  /** Labels its pods carry (and no other pod of the namespace), kept by the scrape job. */
  readonly podLabels: Readonly<Record<string, string>>;
}
