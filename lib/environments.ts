import type { NginxEnvironmentConfig } from './nginx/compose';
import type { RouteRule } from './router/router';

/**
 * One deployment target of the stack. Adding an environment is adding one entry to
 * `ENVIRONMENTS` below: main.ts synthesizes a chart for each into `dist/<name>/`.
 */
export interface EnvironmentConfig {
  /** Environment name: chart id, folder under dist/, the environment label, and a prefix of cluster-wide names. */
  readonly name: string;
  /**
   * Namespace of every namespaced object of this environment.
   * @default `platform-<name>`
   */
  readonly namespace?: string;
  /**
   * Expose the user-facing services on fixed NodePorts (a dev cluster without an ingress).
   * @default false - ClusterIP services, reached through an existing ingress
   */
  readonly exposeNodePorts?: boolean;
  /**
   * NGINX with its dynamic router: backends (the allowlist), rules, replicas, decision cache.
   * @default - none in this environment
   */
  readonly nginx?: NginxEnvironmentConfig;
}

/**
 * Example routing over the two stand-in backends: `/b/` and `X-Canary: always` go to echo-b, the
 * rest is a 90/10 canary split, sticky by the `session` cookie. Replace with your apps' Services.
 */
const EXAMPLE_ROUTING = {
  exampleBackends: ['echo-a', 'echo-b'],
  rules: [
    { strategy: 'pathPrefix', params: { prefix: '/b/', target: 'echo-b' } },
    { strategy: 'header', params: { name: 'X-Canary', value: 'always', target: 'echo-b' } },
    { strategy: 'weighted', params: { weights: { 'echo-a': 90, 'echo-b': 10 }, stickyBy: { cookie: 'session' } } },
  ] satisfies RouteRule[],
  defaultTarget: 'echo-a',
} as const;

/** The environments this repository ships, in the order they are synthesized. */
export const ENVIRONMENTS: readonly EnvironmentConfig[] = [
  { name: 'dev', exposeNodePorts: true, nginx: { ...EXAMPLE_ROUTING, nodePort: 30080 } },
  { name: 'staging', nginx: { ...EXAMPLE_ROUTING } },
  { name: 'prod', nginx: { ...EXAMPLE_ROUTING, nginxReplicas: 3, routerReplicas: 2 } },
];
