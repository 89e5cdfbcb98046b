import { Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { EnvironmentConfig } from './environments';
import { ENVIRONMENT_LABEL, PART_OF } from './core/labels';
import { denyAllTrafficExceptDns } from './core/network';
import { DynamicRouting, addDynamicRouting } from './nginx/compose';
import { clusterScoped } from './core/security';
import { PropValidator } from './core/validation';
import { Grafana, grafanaPropsForEnvironment } from './grafana';
import { Prometheus } from './prometheus';
import { Redis, redisPropsFor } from './redis';
import { Router } from './router';

/** Props of an EnvironmentChart or a PlatformChart. */
export interface PlatformChartProps {
  /** The environment this chart deploys. */
  readonly environment: EnvironmentConfig;
}

/**
 * The ground every environment stands on, without the systems: its namespace (Pod Security
 * "restricted" enforced), all traffic denied but DNS and what the wiring allows, the recommended
 * labels and the environment label on every object. Other teams can put their own workloads on it.
 */
export class EnvironmentChart extends Chart {
  /** The environment this chart was built from. */
  public readonly environment: EnvironmentConfig;
  /** Namespace of every namespaced object in this chart. */
  public readonly namespaceName: string;

  constructor(scope: Construct, id: string, props: PlatformChartProps) {
    const namespaceName = props.environment.namespace ?? `platform-${props.environment.name}`;
    super(scope, id, {
      namespace: namespaceName,
      // Names are derived from construct ids without hashes: readable, and stable while ids are.
      disableResourceNameHashes: true,
      labels: {
        'app.kubernetes.io/part-of': PART_OF,
        'app.kubernetes.io/managed-by': 'cdk8s',
        [ENVIRONMENT_LABEL]: props.environment.name,
      },
    });
    this.environment = props.environment;
    this.namespaceName = namespaceName;

    const validator = new PropValidator(this, this.constructor.name);
    validator.dnsLabel('environment.name', props.environment.name, 20);
    // A derived namespace is valid whenever the name is; only check one given explicitly.
    if (props.environment.namespace !== undefined) validator.dnsLabel('environment.namespace', props.environment.namespace);
    validator.throwIfInvalid();

    const namespace = new kplus.Namespace(this, 'namespace', {
      metadata: {
        name: namespaceName,
        labels: {
          'pod-security.kubernetes.io/enforce': 'restricted',
          'pod-security.kubernetes.io/enforce-version': 'v1.27',
          'pod-security.kubernetes.io/warn': 'restricted',
          'pod-security.kubernetes.io/audit': 'restricted',
        },
      },
    });
    clusterScoped(namespace);
    // Nothing talks unless the wiring says so: each system allows exactly its own connections.
    denyAllTrafficExceptDns(this);
  }
}

/** The whole stack for one environment: an EnvironmentChart with the four systems, wired together. */
export class PlatformChart extends EnvironmentChart {
  /** Prometheus of this environment (construct id `prometheus`). */
  public readonly prometheus: Prometheus;
  /** Grafana, wired to this chart's Prometheus, with the shipped dashboards (construct id `grafana`). */
  public readonly grafana: Grafana;
  /** Redis (construct id `redis`: objects named `<env>-redis`). */
  public readonly redis: Redis;
  /** NGINX, its router (wired to this chart's Redis) and the example backends, when the environment has them (construct ids `nginx`, `router`, `example-backends`). */
  public readonly routing?: DynamicRouting;

  constructor(scope: Construct, id: string, props: PlatformChartProps) {
    super(scope, id, props);
    this.prometheus = new Prometheus(this, 'prometheus', {
      nodePort: props.environment.exposeNodePorts ? 30030 : undefined,
      externalLabels: { environment: props.environment.name },
      ...props.environment.prometheus,
    });
    this.grafana = new Grafana(this, 'grafana', grafanaPropsForEnvironment(this, props.environment, this.prometheus));

    // The router gets a Redis user of its own with GET on its rules' key prefixes, and Redis only if a rule reads it.
    const routerAccess = props.environment.nginx && Router.redisAccess(props.environment.nginx.rules ?? []);
    const redisClients = routerAccess ? [{ username: 'router', ...routerAccess }] : [];
    this.redis = new Redis(this, 'redis', redisPropsFor(this, props.environment.redis, redisClients));
    if (props.environment.nginx) {
      const credentials = routerAccess && this.redis.requiresAuth ? this.redis.clientCredentials('router') : undefined;
      this.routing = addDynamicRouting(this, props.environment.nginx, props.environment.exposeNodePorts ?? false, routerAccess ? this.redis : undefined, credentials);
    }
  }
}
