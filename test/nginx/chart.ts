import { Duration } from 'cdk8s';
// The stack the engine tests and the benchmark run: a Router and two Nginx constructs (decision
// cache off and on) in one chart, synthesized, then run locally through ./stack.ts.
import * as kplus from 'cdk8s-plus-27';
import { Backend, Nginx } from '../../lib/nginx';
import { Router } from '../../lib/router';
import { IRedisEndpoint } from '../../lib/core/endpoints';
import { K8sObject, synthWith } from '../support/synth';
import { restrictPod } from '../../lib';

export const RULES = [
  { strategy: 'refuse', params: { prefix: '/admin/', status: 403 } },
  { strategy: 'refuse', params: { prefix: '/private/', status: 401 } },
  // The README's example: the bypass tests try every spelling of this path.
  { strategy: 'refuse', params: { prefix: '/internal/', status: 403 } },
  { strategy: 'pathPrefix', params: { prefix: '/b/', target: 'app-b' } },
  { strategy: 'header', params: { name: 'X-Beta', value: 'yes', target: 'app-b' } },
  { strategy: 'cookie', params: { name: 'beta', value: '1', target: 'app-b' } },
  { strategy: 'redisLookup', params: { keyPrefix: 'tenant:', key: { header: 'X-Tenant' } } },
  { strategy: 'weighted', params: { weights: { 'app-a': 1, 'app-b': 1 }, stickyBy: { cookie: 'sid' } } },
] as const;

export interface SynthesizedStack {
  readonly objects: K8sObject[];
  readonly router: Router;
  readonly nginx: Nginx;
  readonly cachedNginx: Nginx;
}

export function synthStack(options: { cacheTtlSeconds?: number; routerTimeoutMs?: number } = {}): SynthesizedStack {
  let router!: Router;
  let nginx!: Nginx;
  let cachedNginx!: Nginx;
  const objects = synthWith((chart) => {
    // A stand-in for the Redis construct: the engine tests run a real redis-server on 127.0.0.1.
    const redisPods = restrictPod(new kplus.Deployment(chart, 'redis', { replicas: 1, containers: [{ image: 'redis:7.4', portNumber: 6379 }] }));
    const redisService = new kplus.Service(chart, 'redis-service', { selector: redisPods, ports: [{ port: 6379 }] });
    const redis: IRedisEndpoint = { service: redisService, port: 6379, host: 'test-redis.platform-test.svc', workload: redisPods, requiresAuth: false };
    router = new Router(chart, 'router', { targets: ['app-a', 'app-b'], rules: RULES, redis });
    const backends = [Backend.fromHost('app-a', 'app-a.apps.svc', 80), Backend.fromHost('app-b', 'app-b.apps.svc', 80)];
    const common = { router, backends, routerTimeout: Duration.millis(options.routerTimeoutMs ?? 300), directRoutes: [{ pathPrefix: '/direct/', backend: 'app-a' }] };
    nginx = new Nginx(chart, 'nginx', { ...common, decisionCacheTtl: Duration.seconds(0) });
    // The default: the decision cache on.
    cachedNginx = new Nginx(chart, 'nginx-cached', options.cacheTtlSeconds === undefined ? common : { ...common, decisionCacheTtl: Duration.seconds(options.cacheTtlSeconds) });
  });
  return { objects, router, nginx, cachedNginx };
}

/** rules.json as synthesized, with Redis's in-cluster address replaced by a local one. */
export function localRules(rulesJson: string, redisPort: number): string {
  const rules = JSON.parse(rulesJson);
  rules.redis = { ...rules.redis, host: '127.0.0.1', port: redisPort };
  return JSON.stringify(rules);
}
