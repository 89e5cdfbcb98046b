import { ApiObject, Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { checkClusterPorts } from './core/cluster-ports';
import { registerConstruct } from './core/construct';
import { IPrometheusEndpoint } from './core/endpoints';
import { ENVIRONMENT_LABEL, PART_OF } from './core/labels';
import { constructName } from './core/names';
import { denyAllTrafficExceptDns, setMetricsScraperNamespaces } from './core/network';
import { clusterScoped, podSecurityNamespaceLabels } from './core/security';
import { PropValidator } from './core/validation';
import { EnvironmentConfig } from './environments';
import { Alertmanager } from './alertmanager/alertmanager';
import { Grafana } from './grafana/grafana';
import { KubeStateMetrics } from './kube-state-metrics/kube-state-metrics';
import { addDynamicRouting, DynamicRouting } from './nginx/compose';
import { NodeExporter } from './node-exporter/node-exporter';
import { Prometheus } from './prometheus/prometheus';
import { Redis } from './redis/redis';
import { Router } from './router/router';

/** Props of an EnvironmentChart or a PlatformChart. */
export interface PlatformChartProps {
  /** The environment this chart deploys. */
  readonly environment: EnvironmentConfig;
  /**
   * A Prometheus that already runs (another chart's or another app's, see `prometheusEndpoint`):
   * the chart then makes no Prometheus of its own, and its Grafana queries this one.
   * @default - the chart's own Prometheus (construct id `prometheus`)
   */
  readonly prometheus?: IPrometheusEndpoint;
}

/**
 * The ground every environment stands on, without the systems: its namespace (Pod Security
 * "restricted" enforced, and checked at synth for every pod template of the chart), all traffic
 * denied but DNS and what the wiring allows, the recommended labels and the environment label on
 * every object. Other teams can put their own workloads on it.
 */
export class EnvironmentChart extends Chart {
  /** The environment this chart was built from. */
  public readonly environment: EnvironmentConfig;
  /** Namespace of every namespaced object in this chart. */
  public readonly namespaceName: string;
  /** The cluster it is deployed to (`environment.cluster`, else the environment's name). */
  public readonly cluster: string;

  constructor(scope: Construct, id: string, props: PlatformChartProps) {
    const namespaceName = props.environment.namespace ?? `platform-${props.environment.name}`;
    super(scope, id, {
      namespace: namespaceName,
      labels: {
        'app.kubernetes.io/part-of': PART_OF,
        'app.kubernetes.io/managed-by': 'cdk8s',
        [ENVIRONMENT_LABEL]: props.environment.name,
      },
    });
    registerConstruct(this);
    this.environment = props.environment;
    this.namespaceName = namespaceName;
    this.cluster = props.environment.cluster ?? props.environment.name;

    const validator = new PropValidator(this, this.constructor.name);
    validator.dnsLabel('environment.name', props.environment.name, 20);
    if (props.environment.cluster !== undefined) validator.nonEmpty('environment.cluster', props.environment.cluster);
    // A derived namespace is valid whenever the name is; only check one given explicitly.
    if (props.environment.namespace !== undefined) validator.dnsLabel('environment.namespace', props.environment.namespace);
    (props.environment.metricsScraperNamespaces ?? []).forEach((name, i) => validator.dnsLabel(`environment.metricsScraperNamespaces[${i}]`, name));
    validator.throwIfInvalid();

    const namespace = new kplus.Namespace(this, 'namespace', {
      metadata: {
        name: namespaceName,
        labels: { ...podSecurityNamespaceLabels('restricted'), 'pod-security.kubernetes.io/audit': 'restricted' },
      },
    });
    clusterScoped(namespace);
    // Scraped pods admit the Prometheus of this namespace, or the shared one this chart is wired to,
    // or the namespaces the environment names; never a scraper label in just any namespace.
    const sharedPrometheus = props.prometheus?.workload && Chart.of(props.prometheus.workload).namespace;
    setMetricsScraperNamespaces(this, props.environment.metricsScraperNamespaces ?? [sharedPrometheus || namespaceName]);
    // Nothing talks unless the wiring says so: each system allows exactly its own connections.
    denyAllTrafficExceptDns(this);
    checkClusterPorts(this, this.cluster);
  }

  /**
   * Names are `<chart>-<construct id path>` without hashes: readable, and stable while ids are. A
   * name over 63 characters keeps the chart prefix and ends in a hash of its path (see constructName).
   */
  public override generateObjectName(apiObject: ApiObject): string {
    return constructName(apiObject);
  }
}

/** The whole stack for one environment: an EnvironmentChart with the four systems, wired together. */
export class PlatformChart extends EnvironmentChart {
  /** Prometheus of this environment (construct id `prometheus`); undefined when the chart uses an existing one. */
  public readonly prometheus?: Prometheus;
  /** Grafana, wired to this chart's Prometheus, with the shipped dashboards (construct id `grafana`). */
  public readonly grafana: Grafana;
  /** Redis (construct id `redis`: objects named `<env>-redis`). */
  public readonly redis: Redis;
  /** kube-state-metrics, scraped by this chart's Prometheus (construct id `kube-state-metrics`); undefined when the chart uses an existing Prometheus or turns it off. */
  public readonly kubeStateMetrics?: KubeStateMetrics;
  /** node-exporter, in its own namespace, scraped by this chart's Prometheus (construct id `node-exporter`); undefined when the chart uses an existing Prometheus or turns it off. */
  public readonly nodeExporter?: NodeExporter;
  /** The Alertmanager this chart's Prometheus sends alerts to, when the environment has one (construct id `alertmanager`). */
  public readonly alertmanager?: Alertmanager;
  /** NGINX, its router (wired to this chart's Redis) and the example backends, when the environment has them (construct ids `nginx`, `router`, `example-backends`). */
  public readonly routing?: DynamicRouting;

  constructor(scope: Construct, id: string, props: PlatformChartProps) {
    super(scope, id, props);
    const environment = props.environment;
    const ksmProps = environment.kubeStateMetrics ?? {};
    this.kubeStateMetrics = props.prometheus || ksmProps === false ? undefined : new KubeStateMetrics(this, 'kube-state-metrics', ksmProps);
    const nodeExporterProps = environment.nodeExporter ?? {};
    this.nodeExporter = props.prometheus || nodeExporterProps === false ? undefined : new NodeExporter(this, 'node-exporter', nodeExporterProps);
    this.prometheus = props.prometheus ? undefined : new Prometheus(this, 'prometheus', {
      externalLabels: { environment: environment.name },
      kubeStateMetrics: this.kubeStateMetrics,
      nodeExporter: this.nodeExporter,
      ...environment.prometheus,
    });
    // The router gets a Redis user of its own, with GET on its rules' key prefixes (its password: key
    // `router` of the admin's Secret), and Redis at all only when a rule reads it.
    const routerAccess = environment.nginx && Router.redisAccess(environment.nginx.rules ?? []);
    const users = environment.redis?.users;
    const routerUser = routerAccess && users && !users.clients?.some((c) => c.username === 'router')
      ? { username: 'router', password: { name: users.admin.name, key: 'router' }, ...routerAccess }
      : undefined;
    this.redis = new Redis(this, 'redis', {
      ...environment.redis,
      ...(users && routerUser ? { users: { ...users, clients: [...(users.clients ?? []), routerUser] } } : {}),
    });
    if (environment.alertmanager) {
      this.alertmanager = new Alertmanager(this, 'alertmanager', environment.alertmanager);
      this.prometheus?.addAlertmanager(this.alertmanager);
    }
    if (environment.nginx) {
      const redisCredentials = routerAccess && this.redis.requiresAuth ? this.redis.clientCredentials('router') : undefined;
      this.routing = addDynamicRouting(this, { ...(routerAccess ? { redis: this.redis, redisCredentials } : {}), ...environment.nginx });
    }
    // Last, so its objects follow the systems' in dist/ (it would show the dashboards of systems made after it too).
    const admin = `${environment.name}-grafana-admin`;
    this.grafana = new Grafana(this, 'grafana', {
      prometheus: props.prometheus ?? this.prometheus!,
      adminUser: { name: admin, key: 'admin-user' },
      adminPassword: { name: admin, key: 'admin-password' },
      ...environment.grafana,
    });
  }
}
