// The platform gate's table of bad inputs: each one fails the synth with one clear error that names
// the construct path, the prop (or file), the value and what is allowed.
import * as fs from 'fs';
import * as path from 'path';
import { Chart, Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import {
  EnvironmentChart, EnvironmentConfig, Grafana, GrafanaProps, markForScraping, monitorGoService, PlatformChart, Prometheus, PrometheusProps,
  PrometheusStorage, prometheusEndpoint, Redis, RedisProps, ServiceExposure,
} from '../lib';
import { Backend, Nginx, NginxProps } from '../lib/nginx';
import { Router, RouterProps } from '../lib/router';
import { tempDir } from './support/engines';
import { prometheusStandIn, synthWith, testApp, thrownMessage } from './support/synth';
import { restrictPod } from '../lib';

/** What a clear error must name. `value` is as the message shows it (strings quoted). */
interface Expected {
  readonly construct: string;
  readonly prop: string;
  readonly value: string;
  readonly allowed: string;
}

const prometheus = (props: PrometheusProps) => () => synthWith((chart) => new Prometheus(chart, 'prometheus', props));
const redis = (props: RedisProps) => () => synthWith((chart) => new Redis(chart, 'redis', props));

const grafana = (props: Partial<GrafanaProps>) => () =>
  synthWith((chart) => new Grafana(chart, 'grafana', { prometheus: prometheusStandIn(chart), adminUser: { name: 'grafana-admin', key: 'admin-user' }, adminPassword: { name: 'grafana-admin', key: 'admin-password' }, ...props }));

/** A dashboards folder holding one file, for the dashboard checks. */
function dashboards(file: string, content: string): () => void {
  return () => {
    const dir = tempDir('bad-dashboard');
    try {
      fs.writeFileSync(path.join(dir, file), content);
      grafana({ dashboardsDirs: [dir] })();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
}
const dashboard = (model: object) => JSON.stringify({ title: 'Team', uid: 'team', panels: [], ...model });
const routerRef = { host: 'test-router.platform-test.svc', port: 8080, targets: ['app-a', 'app-b'] };
const nginx = (props: Partial<NginxProps>) => () =>
  synthWith((chart) => new Nginx(chart, 'nginx', { router: routerRef, backends: [Backend.fromHost('app-a', 'app-a.shop.svc', 80), Backend.fromHost('app-b', 'app-b.shop.svc', 80)], ...props }));
const router = (props: Partial<RouterProps>) => () =>
  synthWith((chart) => new Router(chart, 'router', { targets: ['app-a', 'app-b'], rules: [{ strategy: 'pathPrefix', params: { prefix: '/b/', target: 'app-b' } }], ...props }));
const environment = (config: EnvironmentConfig) => () => new PlatformChart(testApp(), config.name, { environment: config });
const goService = (scope: EnvironmentChart) => restrictPod(new kplus.Deployment(scope, 'api', { containers: [{ image: 'api:1', portNumber: 8080 }] }));

const P = "Prometheus 'test/prometheus'";
const R = "Redis 'test/redis'";
const G = "Grafana 'test/grafana'";
const N = "Nginx 'test/nginx'";
const RT = "Router 'test/router'";

const CASES: [string, () => void, Expected][] = [
  // Environment config
  ['environment name not a DNS label', environment({ name: 'Prod_1' }), { construct: "'Prod_1'", prop: 'environment.name', value: "'Prod_1'", allowed: 'a DNS label of at most 20 characters' }],
  ['environment name too long', environment({ name: 'a-very-long-environment-name' }), { construct: "'a-very-long-environment-name'", prop: 'environment.name', value: "'a-very-long-environment-name'", allowed: 'at most 20 characters' }],
  ['namespace not a DNS label', environment({ name: 'qa', namespace: 'team.qa' }), { construct: "'qa'", prop: 'environment.namespace', value: "'team.qa'", allowed: 'a DNS label' }],
  // Prometheus
  ['Prometheus scrape interval of a fraction of a millisecond', prometheus({ scrapeInterval: Duration.millis(0.5) }), { construct: P, prop: 'scrapeInterval', value: "'0.5 millis'", allowed: 'Duration of whole milliseconds' }],
  ['Prometheus evaluation interval zero', prometheus({ evaluationInterval: Duration.seconds(0) }), { construct: P, prop: 'evaluationInterval', value: "'0s'", allowed: 'greater than 0' }],
  ['Prometheus scrape timeout longer than the interval', prometheus({ scrapeInterval: Duration.seconds(15), scrapeTimeout: Duration.seconds(30) }), { construct: P, prop: 'scrapeTimeout', value: "'30s'", allowed: 'scrapeInterval' }],
  ['Prometheus retention zero', prometheus({ retention: Duration.days(0) }), { construct: P, prop: 'retention', value: "'0s'", allowed: 'greater than 0' }],
  ['Prometheus retention size over the volume', prometheus({ storage: PrometheusStorage.persistentVolumeClaim({ size: Size.gibibytes(10) }), retentionSize: Size.gibibytes(20) }), { construct: P, prop: 'retentionSize', value: "'20Gi'", allowed: 'at most the storage size' }],
  ['Prometheus NodePort outside 30000-32767', prometheus({ expose: ServiceExposure.nodePort(8080) }), { construct: P, prop: 'nodePort', value: '8080', allowed: 'an integer from 30000 to 32767' }],
  ['Prometheus port 0', prometheus({ port: 0 }), { construct: P, prop: 'port', value: '0', allowed: 'an integer from 1 to 65535' }],
  ['Prometheus image tagged latest', prometheus({ image: 'quay.io/prometheus/prometheus:latest' }), { construct: P, prop: 'image', value: "'quay.io/prometheus/prometheus:latest'", allowed: 'pinned' }],
  ['Prometheus duplicate scrape job names', prometheus({ scrapeJobs: [{ job_name: 'prometheus', static_configs: [{ targets: ['a:1'] }] }] }), { construct: P, prop: 'job_name', value: "'prometheus'", allowed: 'unique' }],
  ['Prometheus relabel regex that does not compile', prometheus({ scrapeJobs: [{ job_name: 'team', static_configs: [{ targets: ['a:1'] }], relabel_configs: [{ source_labels: ['__address__'], regex: '(unclosed', action: 'keep' }] }] }), { construct: P, prop: 'regex', value: "'(unclosed'", allowed: 'regular expression' }],
  ['Prometheus rule with an invalid "for"', prometheus({ ruleGroups: [{ name: 'team', rules: [{ alert: 'TeamDown', expr: 'up == 0', for: 'soon' }] }] }), { construct: P, prop: 'for', value: "'soon'", allowed: 'duration' }],
  ['Prometheus PVC of a bad size', prometheus({ storage: PrometheusStorage.persistentVolumeClaim({ size: Size.gibibytes(0) }) }), { construct: P, prop: 'storage.size', value: "'0Ki'", allowed: 'greater than 0' }],
  // Redis
  ['Redis unknown fsync mode', redis({ appendFsync: 'sometimes' as never }), { construct: R, prop: 'appendFsync', value: "'sometimes'", allowed: 'one of always|everysec|no' }],
  ['Redis unknown preset', redis({ preset: 'fast' as never }), { construct: R, prop: 'preset', value: "'fast'", allowed: 'one of cache|durable|strict' }],
  ['Redis save rule of 0 seconds', redis({ saveRules: [{ seconds: 0, changes: 1000 }] }), { construct: R, prop: 'saveRules', value: '0', allowed: 'integer' }],
  ['Redis save rule of negative changes', redis({ saveRules: [{ seconds: 300, changes: -1 }] }), { construct: R, prop: 'saveRules', value: '-1', allowed: 'integer' }],
  ['Redis port out of range', redis({ port: 70000 }), { construct: R, prop: 'port', value: '70000', allowed: 'an integer from 1 to 65535' }],
  ['Redis AOF rewrite percentage negative', redis({ autoAofRewritePercentage: -5 }), { construct: R, prop: 'autoAofRewritePercentage', value: '-5', allowed: 'integer' }],
  ['Redis AOF file name with a path', redis({ appendFilename: '../appendonly.aof' }), { construct: R, prop: 'appendFilename', value: "'../appendonly.aof'", allowed: 'a file name of letters, digits' }],
  ['Redis disables a command the probes need', redis({ disabledCommands: ['PING'] }), { construct: R, prop: 'disabledCommands[0]', value: "'PING'", allowed: 'none of PING, INFO' }],
  ['Redis memory request over its limit', redis({ resources: { memory: { request: Size.gibibytes(4), limit: Size.gibibytes(1) } } }), { construct: R, prop: 'resources.memory.limit', value: "'1Gi'", allowed: 'at least resources.memory.request (4Gi)' }],
  ['Redis memory limit under the default request', redis({ resources: { memory: { limit: Size.mebibytes(128) } } }), { construct: R, prop: 'resources.memory.limit', value: "'128Mi'", allowed: 'at least resources.memory.request (256Mi, the default)' }],
  ['Redis password Secret with an empty name', redis({ password: { name: '', key: 'password' } }), { construct: R, prop: 'password.name', value: "''", allowed: 'the name of an existing Secret' }],
  ['Redis password Secret with an invalid name', redis({ password: { name: 'Redis_Auth', key: 'password' } }), { construct: R, prop: 'password.name', value: "'Redis_Auth'", allowed: 'the name of an existing Secret (a DNS subdomain' }],
  ['Redis password Secret without a key', redis({ password: { name: 'redis-auth' } as never }), { construct: R, prop: 'password.key', value: 'undefined', allowed: 'a Secret key' }],
  ['Redis StorageClass not a DNS subdomain', redis({ storageClassName: 'Fast_SSD' }), { construct: R, prop: 'storageClassName', value: "'Fast_SSD'", allowed: 'a StorageClass name' }],
  ['Redis image without a tag', redis({ image: 'redis' }), { construct: R, prop: 'image', value: "'redis'", allowed: 'pinned' }],
  // Grafana
  ['Grafana NodePort outside 30000-32767', grafana({ expose: ServiceExposure.nodePort(3000) }), { construct: G, prop: 'nodePort', value: '3000', allowed: 'an integer from 30000 to 32767' }],
  ['Grafana StorageClass not a DNS subdomain', grafana({ storageSize: Size.gibibytes(1), storageClassName: 'Fast_SSD' }), { construct: G, prop: 'storageClassName', value: "'Fast_SSD'", allowed: 'a StorageClass name' }],
  ['Grafana admin Secret with an invalid name', grafana({ adminUser: { name: 'Grafana_Admin', key: 'user' }, adminPassword: { name: 'Grafana_Admin', key: 'password' } }), { construct: G, prop: 'adminUser.name', value: "'Grafana_Admin'", allowed: 'the name of an existing Secret' }],
  ['Grafana URL in a chart without a namespace', () => new Grafana(new Chart(testApp(), 'orders'), 'grafana', { prometheus: prometheusEndpoint('http://prometheus.monitoring.svc:9090'), adminUser: { name: 'admin', key: 'user' }, adminPassword: { name: 'admin', key: 'password' } }), { construct: "Grafana 'orders/grafana'", prop: 'scope', value: "'orders'", allowed: 'a Chart with a namespace' }],
  ['Grafana scrape interval other than its Prometheus', () => synthWith((chart) => new Grafana(chart, 'grafana', { prometheus: new Prometheus(chart, 'prometheus', { scrapeInterval: Duration.seconds(15) }), prometheusScrapeInterval: Duration.seconds(30), adminUser: { name: 'grafana-admin', key: 'admin-user' }, adminPassword: { name: 'grafana-admin', key: 'admin-password' } })), { construct: G, prop: 'prometheusScrapeInterval', value: "'30s'", allowed: 'unset: the Prometheus scrapes every 15s' }],
  ['Grafana image tagged latest', grafana({ image: 'grafana/grafana:latest' }), { construct: G, prop: 'image', value: "'grafana/grafana:latest'", allowed: 'pinned' }],
  ['Grafana dashboards folder missing', grafana({ dashboardsDirs: ['/nonexistent/dashboards'] }), { construct: G, prop: 'dashboardsDirs[0]', value: "'/nonexistent/dashboards'", allowed: 'an existing folder' }],
  ['Grafana second default datasource', grafana({ additionalDatasources: [{ name: 'Thanos', type: 'prometheus', uid: 'thanos', url: 'http://thanos:9090', isDefault: true }] }), { construct: G, prop: 'isDefault', value: 'true', allowed: 'must be false' }],
  ['dashboard that is not valid JSON', dashboards('broken.json', '{ "title": "Broken", '), { construct: G, prop: 'broken.json', value: 'position 21 (line 1 column 22)', allowed: 'is not valid JSON' }],
  ['dashboard without a uid', dashboards('nouid.json', JSON.stringify({ title: 'No uid', panels: [] })), { construct: G, prop: 'nouid.json', value: 'uid', allowed: 'must be set' }],
  ['dashboard uid over 40 characters', dashboards('long.json', dashboard({ uid: 'u'.repeat(41) })), { construct: G, prop: 'long.json', value: 'u'.repeat(41), allowed: '40' }],
  ['dashboard with invalid PromQL', dashboards('promql.json', dashboard({ panels: [{ id: 1, title: 'Rate', type: 'timeseries', targets: [{ refId: 'A', expr: 'rate(http_requests_total[5m]' }] }] })), { construct: G, prop: "promql.json: panel 'Rate' (id 1), target A", value: 'rate(http_requests_total[5m]', allowed: 'valid PromQL' }],
  ['dashboard with an unresolved ${DS_...} placeholder', dashboards('import.json', dashboard({ panels: [{ id: 1, title: 'Up', type: 'stat', datasource: '${DS_PROM}', targets: [{ refId: 'A', expr: 'up' }] }] })), { construct: G, prop: 'import.json', value: '${DS_PROM}', allowed: 'must be declared in __inputs' }],
  // NGINX and the router
  ['NGINX with an empty backend allowlist', nginx({ backends: [], router: { host: 'r.svc', port: 80 } }), { construct: N, prop: 'backends', value: '[]', allowed: 'not empty' }],
  ['NGINX router timeout of 0 ms', nginx({ routerTimeout: Duration.millis(0) }), { construct: N, prop: 'routerTimeout', value: "'0ms'", allowed: 'whole milliseconds from 10ms to 60s' }],
  ['NGINX decision cache TTL of an hour', nginx({ decisionCacheTtl: Duration.hours(1) }), { construct: N, prop: 'decisionCacheTtl', value: "'3600s'", allowed: 'whole seconds from 0 to 300s' }],
  ['NGINX NodePort outside 30000-32767', nginx({ expose: ServiceExposure.nodePort(80) }), { construct: N, prop: 'nodePort', value: '80', allowed: 'an integer from 30000 to 32767' }],
  ['NGINX backend on a port its Service lacks', () => synthWith((chart) => Backend.fromService('shop', new kplus.Service(chart, 'shop', { ports: [{ port: 9000 }] }), { port: 8080 })), { construct: "Backend.fromService 'test/shop'", prop: 'port', value: '8080', allowed: "one of the Service's ports (9000)" }],
  ['NGINX backend with an invalid name', nginx({ backends: [Backend.fromHost('App_A', 'a.svc', 80)], router: { host: 'r.svc', port: 80 } }), { construct: N, prop: 'backends[0].name', value: "'App_A'", allowed: 'a DNS label' }],
  ['router strategy that does not exist', router({ rules: [{ strategy: 'teleport' as 'pathPrefix', params: { prefix: '/', target: 'app-a' } }] }), { construct: RT, prop: 'rules[0].strategy', value: "'teleport'", allowed: 'one of pathPrefix|header|cookie|weighted|redisLookup|refuse' }],
  ['router rule targeting a backend outside the targets', router({ rules: [{ strategy: 'pathPrefix', params: { prefix: '/c/', target: 'app-c' } }] }), { construct: RT, prop: 'rules[0].params.target', value: "'app-c'", allowed: 'one of the targets (app-a|app-b)' }],
  ['router Redis lookup without a Redis', router({ rules: [{ strategy: 'redisLookup', params: { keyPrefix: 't:', key: { header: 'X-Tenant' } } }] }), { construct: RT, prop: 'rules[0].strategy', value: "'redisLookup'", allowed: 'only when the router has a redis endpoint' }],
  ['router with 0 replicas', router({ replicas: 0 }), { construct: RT, prop: 'replicas', value: '0', allowed: 'an integer from 1 to 100' }],
  // Scraping helpers
  ['markForScraping on port 0', () => synthWith((chart) => markForScraping(goService(chart), { port: 0 })), { construct: "markForScraping 'test/api'", prop: 'port', value: '0', allowed: 'an integer from 1 to 65535' }],
  ['markForScraping on a relative path', () => synthWith((chart) => markForScraping(goService(chart), { port: 8080, path: 'metrics' })), { construct: "markForScraping 'test/api'", prop: 'path', value: "'metrics'", allowed: 'an absolute HTTP path' }],
  ['markForScraping on a port no container declares', () => synthWith((chart) => markForScraping(goService(chart), { port: 9100 })), { construct: "markForScraping 'test/api'", prop: 'port', value: '9100', allowed: 'a port a container of the workload declares (8080)' }],
  ['a Secret with a value in the chart', () => synthWith((chart) => { new kplus.Secret(chart, 'api-token', { stringData: { token: 'hunter2' } }); }), { construct: "Secret 'test-api-token' (test/api-token", prop: 'must not hold a value', value: 'token', allowed: 'Create the Secret out of band' }],
  ['a team Deployment that Pod Security "restricted" refuses', () => synthWith((chart) => { new kplus.Deployment(chart, 'api', { containers: [{ image: 'api:1', portNumber: 8080 }] }); }), { construct: "Deployment 'test-api' (test/api", prop: 'seccompProfile.type', value: 'capabilities.drop must include ALL', allowed: 'restrictPod(workload)' }],
  ['pprof on the metrics port', () => synthWith((chart) => monitorGoService(goService(chart), { metricsPort: 6060, pprofPort: 6060 })), { construct: "monitorGoService 'test/api'", prop: 'pprofPort', value: '6060', allowed: 'a port other than metricsPort' }],
];

describe('bad inputs fail the synth with a clear error', () => {
  test(`at least 30 cases (${CASES.length})`, () => expect(CASES.length).toBeGreaterThanOrEqual(30));

  test.each(CASES)('%s', (_name, build, expected) => {
    const message = thrownMessage(build);
    expect(message).toContain(expected.construct);
    expect(message).toContain(expected.prop);
    expect(message).toContain(expected.value);
    expect(message).toContain(expected.allowed);
    for (const part of Object.values(expected)) expect(part).not.toBe('');
    expect(message).toMatch(/must|is not|are not|cannot|needs/);
  });
});
