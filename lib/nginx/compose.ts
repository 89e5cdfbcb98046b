import { Construct } from 'constructs';
import { IRedisEndpoint, RedisCredentials } from '../core/endpoints';
import { RouteRule, Router, RouterProps } from '../router/router';
import { ExampleBackends } from './example-backends';
import { IBackend, Nginx, NginxProps } from './nginx';

/** NGINX with its dynamic router, in one chart (`EnvironmentConfig.nginx`). */
export interface DynamicRoutingProps {
  /**
   * Stand-in backends to deploy (ExampleBackends, one small pod), by name: a fresh environment routes end to end.
   * @default []
   */
  readonly exampleBackends?: readonly string[];
  /**
   * Apps' Services (`Backend.fromService`, `Backend.fromHost`): the rest of the allowlist.
   * @default []
   */
  readonly backends?: readonly IBackend[];
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
  /**
   * Redis for the router's `redisLookup` rules.
   * @default - none
   */
  readonly redis?: IRedisEndpoint;
  /**
   * The Redis user the router logs in as, when Redis has users (one with what `Router.redisAccess(rules)` says).
   * @default - none
   */
  readonly redisCredentials?: RedisCredentials;
  /**
   * NGINX's props (replicas, decision cache, exposure, resources...), less what this wires.
   * @default - the Nginx defaults
   */
  readonly nginx?: Partial<Omit<NginxProps, 'router' | 'backends'>>;
  /**
   * The router's props (replicas, resources, image...), less what this wires.
   * @default - the Router defaults
   */
  readonly router?: Partial<Omit<RouterProps, 'targets' | 'rules' | 'defaultTarget' | 'redis' | 'redisCredentials'>>;
}

/** The constructs one chart's dynamic routing is made of. */
export interface DynamicRouting {
  readonly nginx: Nginx;
  readonly router: Router;
  /** The stand-in backends, when the chart has any. */
  readonly exampleBackends?: ExampleBackends;
}

/**
 * Adds NGINX (id `nginx`), the router (id `router`) and the example backends (id
 * `example-backends`) to a chart. With `redis`, the router can use `redisLookup` rules and Redis
 * admits it.
 */
export function addDynamicRouting(scope: Construct, props: DynamicRoutingProps): DynamicRouting {
  const exampleBackends = props.exampleBackends?.length ? new ExampleBackends(scope, 'example-backends', { names: props.exampleBackends }) : undefined;
  const backends: IBackend[] = [...(exampleBackends?.backends ?? []), ...(props.backends ?? [])];
  const router = new Router(scope, 'router', {
    ...props.router,
    targets: backends.map((b) => b.name),
    rules: props.rules,
    defaultTarget: props.defaultTarget,
    redis: props.redis,
    redisCredentials: props.redisCredentials,
  });
  const nginx = new Nginx(scope, 'nginx', { ...props.nginx, router, backends });
  return { nginx, router, exampleBackends };
}
