import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { IRedisEndpoint, RedisCredentials } from '../core/endpoints';
import { RouteRule, Router } from '../router/router';
import { ExampleBackends } from './example-backends';
import { Backend, IBackend, Nginx } from './nginx';

/** NGINX with its dynamic router, in one environment (EnvironmentConfig.nginx). */
export interface NginxEnvironmentConfig {
  /**
   * Stand-in backends to deploy (ExampleBackends, one small pod), by name: a fresh environment routes end to end.
   * @default []
   */
  readonly exampleBackends?: readonly string[];
  /**
   * Apps' Services, by in-cluster host name and port: the rest of the allowlist.
   * @default []
   */
  readonly backends?: readonly { readonly name: string; readonly host: string; readonly port: number }[];
  /**
   * The router's rules (names are backend names).
   * @default [] - everything goes to defaultTarget
   */
  readonly rules?: readonly RouteRule[];
  /**
   * Where requests no rule decides go.
   * @default - none: such requests get 502 router-error
   */
  readonly defaultTarget?: string;
  /** @default 1 */
  readonly nginxReplicas?: number;
  /** @default 1 */
  readonly routerReplicas?: number;
  /** @default 0 - off */
  readonly decisionCacheTtlSeconds?: number;
  /**
   * Node port of NGINX when the environment exposes node ports.
   * @default 30080
   */
  readonly nodePort?: number;
}

/** The constructs one environment's dynamic routing is made of. */
export interface DynamicRouting {
  readonly nginx: Nginx;
  readonly router: Router;
  /** The stand-in backends, when the environment has any. */
  readonly exampleBackends?: ExampleBackends;
}

/**
 * Adds NGINX, the router and the example backends of `config` to a chart. With `redis`, the router
 * can use `redisLookup` rules, logged in with `credentials` when Redis has users (a user with what
 * `Router.redisAccess(config.rules)` says).
 */
export function addDynamicRouting(scope: Construct, config: NginxEnvironmentConfig, exposeNodePorts: boolean, redis?: IRedisEndpoint, credentials?: RedisCredentials): DynamicRouting {
  const exampleBackends = config.exampleBackends?.length ? new ExampleBackends(scope, 'example-backends', { names: config.exampleBackends }) : undefined;
  const backends: IBackend[] = [...(exampleBackends?.backends ?? []), ...(config.backends ?? []).map((b) => Backend.fromHost(b.name, b.host, b.port))];
  const router = new Router(scope, 'router', {
    targets: backends.map((b) => b.name),
    rules: config.rules,
    defaultTarget: config.defaultTarget,
    replicas: config.routerReplicas,
    redis,
    redisCredentials: credentials,
  });
  const nginx = new Nginx(scope, 'nginx', {
    router,
    backends,
    replicas: config.nginxReplicas,
    decisionCacheTtlSeconds: config.decisionCacheTtlSeconds,
    serviceType: exposeNodePorts ? kplus.ServiceType.NODE_PORT : kplus.ServiceType.CLUSTER_IP,
    nodePort: exposeNodePorts ? (config.nodePort ?? 30080) : undefined,
  });
  return { nginx, router, exampleBackends };
}
