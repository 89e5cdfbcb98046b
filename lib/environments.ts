import { Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { PrometheusStorage } from './prometheus/storage';
import type { PrometheusProps } from './prometheus/prometheus';
import type { RedisEnvironmentSettings } from './redis/environment';
import type { GrafanaEnvironmentSettings } from './grafana/environment';
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
   * Prometheus of this environment: intervals, retention, storage, resources, kube-state-metrics.
   * @default - the Prometheus defaults; NodePort 30030 when `exposeNodePorts`
   */
  readonly prometheus?: PrometheusProps;
  /**
   * Redis of this environment: preset, volume, resources, the name of the password Secret.
   * @default - durable, 1Gi volume on the default StorageClass, no password
   */
  readonly redis?: RedisEnvironmentSettings;
  /**
   * Grafana settings (admin Secret, anonymous access, storage, resources).
   * @default - emptyDir storage, anonymous access off, admin Secret `<name>-grafana-admin`
   */
  readonly grafana?: GrafanaEnvironmentSettings;
  /**
   * NGINX with its dynamic router: backends (the allowlist), rules, replicas, decision cache.
   * @default - none in this environment
   */
  readonly nginx?: NginxEnvironmentConfig;
}

/**
 * Example routing over the two stand-in backends: `/b/` and `X-Canary: always` go to echo-b; a
 * tenant (`X-Tenant`) goes where Redis key `tenant:<name>` says (app code moves it with one SET);
 * the rest is a 90/10 canary split, sticky by the `session` cookie. Replace with your apps' Services.
 */
const EXAMPLE_ROUTING = {
  exampleBackends: ['echo-a', 'echo-b'],
  rules: [
    { strategy: 'pathPrefix', params: { prefix: '/b/', target: 'echo-b' } },
    { strategy: 'header', params: { name: 'X-Canary', value: 'always', target: 'echo-b' } },
    { strategy: 'redisLookup', params: { keyPrefix: 'tenant:', key: { header: 'X-Tenant' } } },
    { strategy: 'weighted', params: { weights: { 'echo-a': 90, 'echo-b': 10 }, stickyBy: { cookie: 'session' } } },
  ] satisfies RouteRule[],
  defaultTarget: 'echo-a',
} as const;

/** The environments this repository ships, in the order they are synthesized. */
export const ENVIRONMENTS: readonly EnvironmentConfig[] = [
  {
    name: 'dev',
    exposeNodePorts: true,
    // 15s: quick feedback while developing, without the seed's 5s (a benchmark setting that
    // triples samples and load). Data lives with the pod; no kube-state-metrics on a dev cluster.
    prometheus: {
      scrapeInterval: '15s',
      retention: '2d',
      storage: PrometheusStorage.emptyDir({ sizeLimit: Size.gibibytes(4) }),
      resources: {
        cpu: { request: kplus.Cpu.millis(100), limit: kplus.Cpu.millis(500) },
        memory: { request: Size.mebibytes(256), limit: Size.mebibytes(768) },
      },
    },
    redis: { preset: 'durable', storageSize: Size.gibibytes(1), usersSecretName: 'redis-users' },
    // Anyone reaching the NodePort may look (Viewer); nothing kept across restarts.
    grafana: { anonymousAccess: true },
    nginx: { ...EXAMPLE_ROUTING, nodePort: 30080 },
  },
  {
    name: 'staging',
    // 30s, as prod: staging rehearses prod's alert timing. A week of data on a volume.
    prometheus: {
      scrapeInterval: '30s',
      retention: '7d',
      storage: PrometheusStorage.persistentVolumeClaim({ size: Size.gibibytes(20) }),
      kubeStateMetrics: 'kube-state-metrics.kube-system.svc:8080',
    },
    redis: { preset: 'durable', storageSize: Size.gibibytes(5), usersSecretName: 'redis-users' },
    nginx: { ...EXAMPLE_ROUTING },
  },
  {
    name: 'prod',
    // 30s: every alert window (5m and up) holds 10+ samples, at half the series load of 15s.
    prometheus: {
      scrapeInterval: '30s',
      retention: '15d',
      storage: PrometheusStorage.persistentVolumeClaim({ size: Size.gibibytes(50) }),
      kubeStateMetrics: 'kube-state-metrics.kube-system.svc:8080',
      resources: {
        cpu: { request: kplus.Cpu.millis(500), limit: kplus.Cpu.units(2) },
        memory: { request: Size.gibibytes(2), limit: Size.gibibytes(4) },
      },
    },
    redis: {
      preset: 'durable',
      storageSize: Size.gibibytes(20),
      usersSecretName: 'redis-users',
      cpuRequest: kplus.Cpu.millis(250),
      cpuLimit: kplus.Cpu.units(1),
      memoryRequest: Size.gibibytes(1),
      memoryLimit: Size.gibibytes(2),
    },
    // Users, preferences and annotations survive restarts; room for many on-call viewers.
    grafana: {
      storageSize: Size.gibibytes(5),
      resources: { cpu: { request: kplus.Cpu.millis(250), limit: kplus.Cpu.millis(1000) }, memory: { request: Size.mebibytes(512), limit: Size.gibibytes(1) } },
    },
    nginx: { ...EXAMPLE_ROUTING, nginxReplicas: 3, routerReplicas: 2 },
  },
];
