// The app's configuration: the environments this repository ships. It is the app's, not the
// library's: other teams build their own charts from the library's constructs.
import { Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { AlertmanagerProps, EnvironmentConfig, GRAFANA_NODE_PORT, PrometheusStorage, RouteRule, ServiceExposure } from '../lib';

/**
 * Example routing over the two stand-in backends: `/b/` and `X-Canary: always` go to echo-b; a
 * tenant (`X-Tenant`) goes where Redis key `tenant:<name>` says (app code moves it with one SET);
 * the rest is a 90/10 canary split, sticky by the `session` cookie. Replace with your apps' Services.
 */
export const EXAMPLE_ROUTING = {
  exampleBackends: ['echo-a', 'echo-b'],
  rules: [
    { strategy: 'pathPrefix', params: { prefix: '/b/', target: 'echo-b' } },
    { strategy: 'header', params: { name: 'X-Canary', value: 'always', target: 'echo-b' } },
    { strategy: 'redisLookup', params: { keyPrefix: 'tenant:', key: { header: 'X-Tenant' } } },
    { strategy: 'weighted', params: { weights: { 'echo-a': 90, 'echo-b': 10 }, stickyBy: { cookie: 'session' } } },
  ] satisfies RouteRule[],
  defaultTarget: 'echo-a',
} as const;

/**
 * The Redis users' passwords: keys `admin`, `exporter` (and `router`, which the chart adds) of a
 * Secret the platform team creates out of band in each namespace.
 */
const REDIS_USERS = { admin: { name: 'redis-users', key: 'admin' }, exporter: { name: 'redis-users', key: 'exporter' } };

/** The receivers' credentials: keys of a Secret the platform team creates out of band in each namespace. */
const RECEIVER_SECRET = 'alertmanager-receivers';

/**
 * Alert routing of staging and prod: critical alerts page (PagerDuty) and go to Slack, the rest
 * to Slack only; grouped per alert and namespace.
 */
function onCallAlerting(replicas: number): AlertmanagerProps {
  return {
    replicas,
    route: {
      receiver: 'slack',
      group_by: ['alertname', 'namespace'],
      group_wait: '30s',
      group_interval: '5m',
      repeat_interval: '4h',
      routes: [{ matchers: ['severity="critical"'], receiver: 'pager', continue: true }],
    },
    receivers: [
      { name: 'slack', slack_configs: [{ api_url_file: { name: RECEIVER_SECRET, key: 'slack-webhook-url' }, channel: '#platform-alerts', send_resolved: true }] },
      { name: 'pager', pagerduty_configs: [{ routing_key_file: { name: RECEIVER_SECRET, key: 'pagerduty-routing-key' } }] },
    ],
  };
}

/** The environments this repository ships, in the order they are synthesized. */
export const ENVIRONMENTS: readonly EnvironmentConfig[] = [
  {
    name: 'dev',
    // 15s: quick feedback while developing, without the seed's 5s (a benchmark setting that
    // triples samples and load). Data lives with the pod.
    // The seed's NodePorts: a dev cluster without an ingress.
    prometheus: {
      scrapeInterval: Duration.seconds(15),
      retention: Duration.days(2),
      storage: PrometheusStorage.emptyDir({ sizeLimit: Size.gibibytes(4) }),
      resources: {
        cpu: { request: kplus.Cpu.millis(100), limit: kplus.Cpu.millis(500) },
        memory: { request: Size.mebibytes(256), limit: Size.mebibytes(768) },
      },
      expose: ServiceExposure.nodePort(30030),
    },
    redis: { preset: 'durable', storageSize: Size.gibibytes(1), users: REDIS_USERS },
    // Anyone reaching the NodePort may look (Viewer); nothing kept across restarts.
    grafana: { anonymousAccess: true, expose: ServiceExposure.nodePort(GRAFANA_NODE_PORT) },
    nginx: { ...EXAMPLE_ROUTING, nginx: { expose: ServiceExposure.nodePort(30080) } },
    // One Alertmanager; alerts go to the developers' own webhook (its URL in the Secret).
    alertmanager: {
      route: { receiver: 'webhook', group_by: ['alertname', 'namespace'] },
      receivers: [{ name: 'webhook', webhook_configs: [{ url_file: { name: RECEIVER_SECRET, key: 'webhook-url' } }] }],
    },
  },
  {
    name: 'staging',
    // 30s, as prod: staging rehearses prod's alert timing. A week of data on a volume.
    prometheus: {
      scrapeInterval: Duration.seconds(30),
      retention: Duration.days(7),
      storage: PrometheusStorage.persistentVolumeClaim({ size: Size.gibibytes(20) }),
    },
    redis: { preset: 'durable', storageSize: Size.gibibytes(5), users: REDIS_USERS },
    nginx: { ...EXAMPLE_ROUTING },
    alertmanager: onCallAlerting(1),
  },
  {
    name: 'prod',
    // 30s: every alert window (5m and up) holds 10+ samples, at half the series load of 15s.
    prometheus: {
      scrapeInterval: Duration.seconds(30),
      retention: Duration.days(15),
      storage: PrometheusStorage.persistentVolumeClaim({ size: Size.gibibytes(50) }),
      resources: {
        cpu: { request: kplus.Cpu.millis(500), limit: kplus.Cpu.units(2) },
        memory: { request: Size.gibibytes(2), limit: Size.gibibytes(4) },
      },
    },
    redis: {
      preset: 'durable',
      storageSize: Size.gibibytes(20),
      users: REDIS_USERS,
      resources: {
        cpu: { request: kplus.Cpu.millis(250), limit: kplus.Cpu.units(1) },
        memory: { request: Size.gibibytes(1), limit: Size.gibibytes(2) },
      },
    },
    // Users, preferences and annotations survive restarts; room for many on-call viewers.
    grafana: {
      storageSize: Size.gibibytes(5),
      resources: { cpu: { request: kplus.Cpu.millis(250), limit: kplus.Cpu.millis(1000) }, memory: { request: Size.mebibytes(512), limit: Size.gibibytes(1) } },
    },
    nginx: { ...EXAMPLE_ROUTING, nginx: { replicas: 3 }, router: { replicas: 2 } },
    // Three peers: alerts survive a node drain and a pod loss at once; each alert is sent once.
    alertmanager: onCallAlerting(3),
  },
];
