// The platform gate's table of bad inputs: each one fails the synth with one clear error that names
// the construct path, the prop (or file), the value and what is allowed.
import * as fs from 'fs';
import * as path from 'path';
import { Chart, Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import {
  addMonitoring, Alertmanager, AlertmanagerProps, EnvironmentChart, KubeStateMetrics, NodeExporter, EnvironmentConfig, Grafana, GrafanaProps, markForScraping, monitorGoService, PlatformChart, Prometheus, PrometheusProps,
  PrometheusStorage, prometheusEndpoint, Redis, RedisProps, ServiceExposure,
} from '../lib';
import { Backend, Nginx, NginxProps } from '../lib/nginx';
import { Router, RouterProps } from '../lib/router';
import { tempDir } from './support/engines';
import { prometheusStandIn, synthWith, testApp, thrownMessage } from './support/synth';
import { restrictPod } from '../lib';

/**
 * What the error must say: the message fragment naming construct path, prop, what is allowed and
 * the value (strings quoted), exactly as the user reads it; or, where the message holds a temp
 * path, its fragments in order.
 */
type Expected = string | readonly string[];

const prometheus = (props: PrometheusProps) => () => synthWith((chart) => new Prometheus(chart, 'prometheus', props));
const redis = (props: RedisProps) => () => synthWith((chart) => new Redis(chart, 'redis', props));
const alertmanager = (props: Partial<AlertmanagerProps>) => () =>
  synthWith((chart) => new Alertmanager(chart, 'alertmanager', { route: { receiver: 'hook' }, receivers: [{ name: 'hook', webhook_configs: [{ url: 'http://sink.team.svc:8080/' }] }], ...props }));

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

// Rows: what the user wrote -> the error they read.
const CASES: [string, () => void, Expected][] = [
  // Environment config
  ['environment name not a DNS label', environment({ name: 'Prod_1' }), "PlatformChart 'Prod_1': environment.name must be a DNS label of at most 20 characters (lower-case letters, digits and '-', starting and ending with a letter or digit), got 'Prod_1'"],
  ['environment name too long', environment({ name: 'a-very-long-environment-name' }), "PlatformChart 'a-very-long-environment-name': environment.name must be a DNS label of at most 20 characters (lower-case letters, digits and '-', starting and ending with a letter or digit), got 'a-very-long-environment-name'"],
  ['namespace not a DNS label', environment({ name: 'qa', namespace: 'team.qa' }), "PlatformChart 'qa': environment.namespace must be a DNS label of at most 63 characters (lower-case letters, digits and '-', starting and ending with a letter or digit), got 'team.qa'"],
  // Prometheus
  ['Prometheus scrape interval of a fraction of a millisecond', prometheus({ scrapeInterval: Duration.millis(0.5) }), "Prometheus 'test/prometheus' has 2 invalid props:\n  - scrapeInterval must be a Duration of whole milliseconds, greater than 0, got '0.5 millis'\n  - scrapeTimeout must be a Duration of whole milliseconds, greater than 0, got '0.5 millis'"],
  ['Prometheus evaluation interval zero', prometheus({ evaluationInterval: Duration.seconds(0) }), "Prometheus 'test/prometheus': evaluationInterval must be a Duration of whole milliseconds, greater than 0, got '0s'"],
  ['Prometheus scrape timeout longer than the interval', prometheus({ scrapeInterval: Duration.seconds(15), scrapeTimeout: Duration.seconds(30) }), "Prometheus 'test/prometheus': scrapeTimeout must be at most scrapeInterval (15s), got '30s'"],
  ['Prometheus retention zero', prometheus({ retention: Duration.days(0) }), "Prometheus 'test/prometheus': retention must be a Duration of whole milliseconds, greater than 0, got '0s'"],
  ['Prometheus retention size over the volume', prometheus({ storage: PrometheusStorage.persistentVolumeClaim({ size: Size.gibibytes(10) }), retentionSize: Size.gibibytes(20) }), "Prometheus 'test/prometheus': retentionSize must be at most the storage size (10GiB), got '20Gi'"],
  ['Prometheus NodePort outside 30000-32767', prometheus({ expose: ServiceExposure.nodePort(8080) }), "Prometheus 'test/prometheus': expose.nodePort must be an integer from 30000 to 32767, got 8080"],
  ['Prometheus port 0', prometheus({ port: 0 }), "Prometheus 'test/prometheus': port must be an integer from 1 to 65535, got 0"],
  ['Prometheus image tagged latest', prometheus({ image: 'quay.io/prometheus/prometheus:latest' }), "Prometheus 'test/prometheus': image must be an image pinned to a version (a tag other than 'latest', @sha256:<digest>, or both), got 'quay.io/prometheus/prometheus:latest'"],
  ['Prometheus duplicate scrape job names', prometheus({ scrapeJobs: [{ job_name: 'prometheus', static_configs: [{ targets: ['a:1'] }] }] }), "Prometheus 'test/prometheus': scrapeJobs[].job_name (including the default jobs) must be unique, got 'prometheus'"],
  ['Prometheus relabel regex that does not compile', prometheus({ scrapeJobs: [{ job_name: 'team', static_configs: [{ targets: ['a:1'] }], relabel_configs: [{ source_labels: ['__address__'], regex: '(unclosed', action: 'keep' }] }] }), "Prometheus 'test/prometheus': scrapeJobs[0].relabel_configs[0].regex must be a regular expression that compiles (RE2 syntax, anchored by Prometheus as ^(?:...)$): /^(?:(unclosed)$/: Unterminated group, got '(unclosed'"],
  ['Prometheus rule with an invalid "for"', prometheus({ ruleGroups: [{ name: 'team', rules: [{ alert: 'TeamDown', expr: 'up == 0', for: 'soon' }] }] }), "Prometheus 'test/prometheus': ruleGroups[0].rules[0].for must be a Prometheus duration such as 30s, 5m, 1h30m or 15d (units y w d h m s ms, largest first), got 'soon'"],
  ['Prometheus ephemeral-storage limit under the default request of an unbounded emptyDir TSDB', prometheus({ resources: { ephemeralStorage: { limit: Size.mebibytes(512) } } }), "Prometheus 'test/prometheus': resources.ephemeralStorage.limit must be at least resources.ephemeralStorage.request (1Gi, the default), got '512Mi'"],
  ['Prometheus PVC of a bad size', prometheus({ storage: PrometheusStorage.persistentVolumeClaim({ size: Size.gibibytes(0) }) }), "Prometheus 'test/prometheus': storage.size must be greater than 0, got '0Ki'"],
  // Redis
  ['Redis unknown fsync mode', redis({ appendFsync: 'sometimes' as never }), "Redis 'test/redis': appendFsync must be one of always|everysec|no, got 'sometimes'"],
  ['Redis unknown preset', redis({ preset: 'fast' as never }), "Redis 'test/redis': preset must be one of cache|durable|strict, got 'fast'"],
  ['Redis save rule of 0 seconds', redis({ saveRules: [{ seconds: 0, changes: 1000 }] }), "Redis 'test/redis': saveRules[0].seconds must be an integer >= 1, got 0"],
  ['Redis save rule of negative changes', redis({ saveRules: [{ seconds: 300, changes: -1 }] }), "Redis 'test/redis': saveRules[0].changes must be an integer >= 1, got -1"],
  ['Redis port out of range', redis({ port: 70000 }), "Redis 'test/redis': port must be an integer from 1 to 65535, got 70000"],
  ['Redis port not an integer', redis({ port: 8080.5 }), "Redis 'test/redis': port must be an integer from 1 to 65535, got 8080.5"],
  ['Redis AOF rewrite percentage negative', redis({ autoAofRewritePercentage: -5 }), "Redis 'test/redis': autoAofRewritePercentage must be an integer >= 0, got -5"],
  ['Redis AOF file name with a path', redis({ appendFilename: '../appendonly.aof' }), `Redis 'test/redis': appendFilename must be a file name of letters, digits, ".", "_" and "-", got '../appendonly.aof'`],
  ['Redis disables a command the probes need', redis({ disabledCommands: ['PING'] }), "Redis 'test/redis': disabledCommands[0] must be none of PING, INFO, AUTH, HELLO, BGSAVE, LASTSAVE, CONFIG, CONFIG|GET (probes, exporter and backups use them), got 'PING'"],
  ['Redis memory request over its limit', redis({ resources: { memory: { request: Size.gibibytes(4), limit: Size.gibibytes(1) } } }), "Redis 'test/redis': resources.memory.limit must be at least resources.memory.request (4Gi), got '1Gi'"],
  ['Redis memory limit under the default request', redis({ resources: { memory: { limit: Size.mebibytes(128) } } }), "Redis 'test/redis': resources.memory.limit must be at least resources.memory.request (256Mi, the default), got '128Mi'"],
  ['Redis admin password Secret with an empty name', redis({ users: { admin: { name: '', key: 'admin' }, exporter: { name: 'redis-users', key: 'exporter' } } }), "Redis 'test/redis': users.admin.name must be the name of an existing Secret (a DNS subdomain: lower-case letters, digits, '-' and '.'), got ''"],
  ['Redis admin password Secret with an invalid name', redis({ users: { admin: { name: 'Redis_Users', key: 'admin' }, exporter: { name: 'redis-users', key: 'exporter' } } }), "Redis 'test/redis': users.admin.name must be the name of an existing Secret (a DNS subdomain: lower-case letters, digits, '-' and '.'), got 'Redis_Users'"],
  ['Redis exporter password Secret without a key', redis({ users: { admin: { name: 'redis-users', key: 'admin' }, exporter: { name: 'redis-users' } as never } }), "Redis 'test/redis': users.exporter.key must be a Secret key (letters, digits, '-', '_' and '.'), got undefined"],
  ['Redis client user named like a stack user', redis({ users: { admin: { name: 'redis-users', key: 'admin' }, exporter: { name: 'redis-users', key: 'exporter' }, clients: [{ username: 'admin', password: { name: 'redis-users', key: 'x' }, keyPrefixes: ['x:'], commands: ['GET'] }] } }), "Redis 'test/redis': users.clients[0].username must be none of default, admin, probe, exporter (the stack's own users), got 'admin'"],
  ['Redis StorageClass not a DNS subdomain', redis({ storageClassName: 'Fast_SSD' }), "Redis 'test/redis': storageClassName must be a StorageClass name (a DNS subdomain: lower-case letters, digits, '-' and '.'), got 'Fast_SSD'"],
  ['Redis image without a tag', redis({ image: 'redis' }), "Redis 'test/redis': image must be an image pinned to a version (a tag other than 'latest', @sha256:<digest>, or both), got 'redis'"],
  // Alertmanager
  ['Alertmanager route to an unknown receiver', alertmanager({ route: { receiver: 'hook', routes: [{ matchers: ['severity="critical"'], receiver: 'pager' }] } }), "Alertmanager 'test/alertmanager': route.routes[0].receiver must be one of the receivers (hook), got 'pager'"],
  ['Alertmanager matcher that does not parse', alertmanager({ route: { receiver: 'hook', routes: [{ matchers: ['severity is critical'] }] } }), `Alertmanager 'test/alertmanager': route.routes[0].matchers[0] must be a matcher such as severity="critical" or namespace=~"platform-.*", got 'severity is critical'`],
  ['Alertmanager PagerDuty key Secret with an invalid name', alertmanager({ receivers: [{ name: 'hook', pagerduty_configs: [{ routing_key_file: { name: 'PD_Key', key: 'key' } }] }] }), "Alertmanager 'test/alertmanager': receivers[0].pagerduty_configs[0].routing_key_file.name must be the name of an existing Secret (a DNS subdomain: lower-case letters, digits, '-' and '.'), got 'PD_Key'"],
  ['Alertmanager replicas 0', alertmanager({ replicas: 0 }), "Alertmanager 'test/alertmanager': replicas must be an integer from 1 to 9, got 0"],
  ['Alertmanager image tagged latest', alertmanager({ image: 'quay.io/prometheus/alertmanager:latest' }), "Alertmanager 'test/alertmanager': image must be an image pinned to a version (a tag other than 'latest', @sha256:<digest>, or both), got 'quay.io/prometheus/alertmanager:latest'"],
  // kube-state-metrics
  ['kube-state-metrics exporting a kind it does not know', () => synthWith((chart) => new KubeStateMetrics(chart, 'ksm', { exportedResources: ['pods', 'pod' as never] })), "KubeStateMetrics 'test/ksm': exportedResources[1] must be one of certificatesigningrequests|configmaps|cronjobs|daemonsets|deployments|endpointslices|horizontalpodautoscalers|ingresses|jobs|leases|limitranges|mutatingwebhookconfigurations|namespaces|networkpolicies|nodes|persistentvolumeclaims|persistentvolumes|poddisruptionbudgets|pods|replicasets|replicationcontrollers|resourcequotas|secrets|services|statefulsets|storageclasses|validatingwebhookconfigurations|volumeattachments, got 'pod'"],
  // A system's own alerts (addMonitoring), collected by the chart's Prometheus
  ['a system brings a rule group with a bad alert name', () => synthWith((chart) => {
    new Prometheus(chart, 'prometheus');
    addMonitoring(goService(chart), { ruleGroups: [{ name: 'api', rules: [{ alert: 'api down', expr: 'up == 0' }] }] });
  }), "addMonitoring 'test/api': ruleGroups[0].rules[0].alert must be an alert name matching [a-zA-Z_][a-zA-Z0-9_]*, got 'api down'"],
  // node-exporter
  ['node-exporter in the chart\'s own namespace', () => synthWith((chart) => new NodeExporter(chart, 'node-exporter', { namespace: 'platform-test' })), "NodeExporter 'test/node-exporter': namespace must be a namespace of its own, not the chart's ('platform-test', whose Pod Security level it would have to lower), got 'platform-test'"],
  ['node-exporter namespace not a DNS label, port out of range', () => synthWith((chart) => new NodeExporter(chart, 'node-exporter', { namespace: 'Node_Exporter', port: 0 })), "NodeExporter 'test/node-exporter' has 2 invalid props:\n  - port must be an integer from 1 to 65535, got 0\n  - namespace must be a DNS label of at most 63 characters (lower-case letters, digits and '-', starting and ending with a letter or digit), got 'Node_Exporter'"],
  ['node-exporter image tagged latest, in an environment', environment({ name: 'qa', nodeExporter: { image: 'quay.io/prometheus/node-exporter:latest' } }), "NodeExporter 'qa/node-exporter': image must be an image pinned to a version (a tag other than 'latest', @sha256:<digest>, or both), got 'quay.io/prometheus/node-exporter:latest'"],
  ['kube-state-metrics image tagged latest', () => synthWith((chart) => new KubeStateMetrics(chart, 'ksm', { image: 'registry.k8s.io/kube-state-metrics/kube-state-metrics:latest' })), "KubeStateMetrics 'test/ksm': image must be an image pinned to a version (a tag other than 'latest', @sha256:<digest>, or both), got 'registry.k8s.io/kube-state-metrics/kube-state-metrics:latest'"],
  // Grafana
  ['Grafana NodePort outside 30000-32767', grafana({ expose: ServiceExposure.nodePort(3000) }), "Grafana 'test/grafana': expose.nodePort must be an integer from 30000 to 32767, got 3000"],
  ['Grafana CPU request over its default limit', grafana({ resources: { cpu: { request: kplus.Cpu.units(2) } } }), "Grafana 'test/grafana': resources.cpu.request must be at most resources.cpu.limit (500m, the default), got '2'"],
  ['Grafana ephemeral-storage request over its default limit', grafana({ resources: { ephemeralStorage: { request: Size.gibibytes(2) } } }), "Grafana 'test/grafana': resources.ephemeralStorage.request must be at most resources.ephemeralStorage.limit (1Gi, the default), got '2Gi'"],
  ['Grafana StorageClass not a DNS subdomain', grafana({ storageSize: Size.gibibytes(1), storageClassName: 'Fast_SSD' }), "Grafana 'test/grafana': storageClassName must be a StorageClass name (a DNS subdomain: lower-case letters, digits, '-' and '.'), got 'Fast_SSD'"],
  ['Grafana admin Secret with an invalid name', grafana({ adminUser: { name: 'Grafana_Admin', key: 'user' }, adminPassword: { name: 'Grafana_Admin', key: 'password' } }), "Grafana 'test/grafana' has 2 invalid props:\n  - adminUser.name must be the name of an existing Secret (a DNS subdomain: lower-case letters, digits, '-' and '.'), got 'Grafana_Admin'\n  - adminPassword.name must be the name of an existing Secret (a DNS subdomain: lower-case letters, digits, '-' and '.'), got 'Grafana_Admin'"],
  ['Grafana URL in a chart without a namespace', () => new Grafana(new Chart(testApp(), 'orders'), 'grafana', { prometheus: prometheusEndpoint('http://prometheus.monitoring.svc:9090'), adminUser: { name: 'admin', key: 'user' }, adminPassword: { name: 'admin', key: 'password' } }), "Grafana 'orders/grafana': scope must be a Chart with a namespace (new Chart(app, id, { namespace: '...' })): its url names it, got 'orders'"],
  ['Grafana scrape interval other than its Prometheus', () => synthWith((chart) => new Grafana(chart, 'grafana', { prometheus: new Prometheus(chart, 'prometheus', { scrapeInterval: Duration.seconds(15) }), prometheusScrapeInterval: Duration.seconds(30), adminUser: { name: 'grafana-admin', key: 'admin-user' }, adminPassword: { name: 'grafana-admin', key: 'admin-password' } })), "Grafana 'test/grafana': prometheusScrapeInterval must be unset: the Prometheus scrapes every 15s (set only for an endpoint that does not say), got '30s'"],
  ['Grafana image tagged latest', grafana({ image: 'grafana/grafana:latest' }), "Grafana 'test/grafana': image must be an image pinned to a version (a tag other than 'latest', @sha256:<digest>, or both), got 'grafana/grafana:latest'"],
  ['Grafana dashboards folder missing', grafana({ dashboardsDirs: ['/nonexistent/dashboards'] }), "Grafana 'test/grafana': dashboardsDirs[0] must be an existing folder of dashboard JSON models, got '/nonexistent/dashboards'"],
  ['Grafana second default datasource', grafana({ additionalDatasources: [{ name: 'Thanos', type: 'prometheus', uid: 'thanos', url: 'http://thanos:9090', isDefault: true }] }), "Grafana 'test/grafana': datasource 'Thanos' isDefault must be false: 'Prometheus' is already the default, and Grafana crash-loops on two default datasources, got true"],
  ['dashboard that is not valid JSON', dashboards('broken.json', '{ "title": "Broken", '), ["Grafana 'test/grafana': 1 dashboard problem in dashboardsDirs ", ' (Grafana would skip or break these at run time):\n  - broken.json: is not valid JSON: ', 'at position 21 (line 1 column 22)']],
  ['dashboard without a uid', dashboards('nouid.json', JSON.stringify({ title: 'No uid', panels: [] })), ["Grafana 'test/grafana': 1 dashboard problem in dashboardsDirs ", ' (Grafana would skip or break these at run time):\n  - nouid.json: uid must be set: without one Grafana makes up a new uid, and links and bookmarks break']],
  ['dashboard uid over 40 characters', dashboards('long.json', dashboard({ uid: 'u'.repeat(41) })), ["Grafana 'test/grafana': 1 dashboard problem in dashboardsDirs ", ` (Grafana would skip or break these at run time):\n  - long.json: uid must be 1 to 40 letters, digits, '-' or '_', got "uuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu"`]],
  ['dashboard with invalid PromQL', dashboards('promql.json', dashboard({ panels: [{ id: 1, title: 'Rate', type: 'timeseries', targets: [{ refId: 'A', expr: 'rate(http_requests_total[5m]' }] }] })), ["Grafana 'test/grafana': 1 dashboard problem in dashboardsDirs ", " (Grafana would skip or break these at run time):\n  - promql.json: panel 'Rate' (id 1), target A: expr is not valid PromQL: it ends too early (an unclosed bracket, or a missing operand?): rate(http_requests_total[5m]"]],
  ['dashboard with an unresolved ${DS_...} placeholder', dashboards('import.json', dashboard({ panels: [{ id: 1, title: 'Up', type: 'stat', datasource: '${DS_PROM}', targets: [{ refId: 'A', expr: 'up' }] }] })), ["Grafana 'test/grafana': 1 dashboard problem in dashboardsDirs ", ` (Grafana would skip or break these at run time):\n  - import.json: \${DS_PROM} must be declared in __inputs (as "Export for sharing externally" writes it) or replaced by a provisioned datasource uid ('prometheus')`]],
  // NGINX and the router
  ['NGINX with an empty backend allowlist', nginx({ backends: [], router: { host: 'r.svc', port: 80 } }), "Nginx 'test/nginx': backends must be not empty, got []"],
  ['NGINX router timeout of 0 ms', nginx({ routerTimeout: Duration.millis(0) }), "Nginx 'test/nginx': routerTimeout must be whole milliseconds from 10ms to 60s, got '0ms'"],
  ['NGINX decision cache TTL of an hour', nginx({ decisionCacheTtl: Duration.hours(1) }), "Nginx 'test/nginx': decisionCacheTtl must be whole seconds from 0 to 300s (5 minutes), got '3600s'"],
  ['NGINX NodePort outside 30000-32767', nginx({ expose: ServiceExposure.nodePort(80) }), "Nginx 'test/nginx': expose.nodePort must be an integer from 30000 to 32767, got 80"],
  ['NGINX backend on a port its Service lacks', () => synthWith((chart) => Backend.fromService('shop', new kplus.Service(chart, 'shop', { ports: [{ port: 9000 }] }), { port: 8080 })), "Backend.fromService 'test/shop': port (backend 'shop') must be one of the Service's ports (9000), got 8080"],
  ['NGINX backend with an invalid name', nginx({ backends: [Backend.fromHost('App_A', 'a.svc', 80)], router: { host: 'r.svc', port: 80 } }), "Nginx 'test/nginx': backends[0].name must be a DNS label of at most 63 characters (lower-case letters, digits and '-', starting and ending with a letter or digit), got 'App_A'"],
  ['router strategy that does not exist', router({ rules: [{ strategy: 'teleport' as 'pathPrefix', params: { prefix: '/', target: 'app-a' } }] }), "Router 'test/router': rules[0].strategy must be one of pathPrefix|header|cookie|weighted|redisLookup|refuse, got 'teleport'"],
  ['router rule targeting a backend outside the targets', router({ rules: [{ strategy: 'pathPrefix', params: { prefix: '/c/', target: 'app-c' } }] }), "Router 'test/router': rules[0].params.target must be one of the targets (app-a|app-b), got 'app-c'"],
  ['router Redis lookup without a Redis', router({ rules: [{ strategy: 'redisLookup', params: { keyPrefix: 't:', key: { header: 'X-Tenant' } } }] }), "Router 'test/router': rules[0].strategy must be used only when the router has a redis endpoint, got 'redisLookup'"],
  ['router with 0 replicas', router({ replicas: 0 }), "Router 'test/router': replicas must be an integer from 1 to 100, got 0"],
  // Scraping helpers
  ['markForScraping on port 0', () => synthWith((chart) => markForScraping(goService(chart), { port: 0 })), "markForScraping 'test/api': port must be an integer from 1 to 65535, got 0"],
  ['markForScraping on a relative path', () => synthWith((chart) => markForScraping(goService(chart), { port: 8080, path: 'metrics' })), "markForScraping 'test/api': path must be an absolute HTTP path starting with /, got 'metrics'"],
  ['markForScraping on a port no container declares', () => synthWith((chart) => markForScraping(goService(chart), { port: 9100 })), "markForScraping 'test/api': port must be a port a container of the workload declares (8080), got 9100"],
  ['a Secret with a value in the chart', () => synthWith((chart) => { new kplus.Secret(chart, 'api-token', { stringData: { token: 'hunter2' } }); }), "[test] Secret 'test-api-token' (test/api-token/Resource) must not hold a value, got keys token: its value would be written into dist/ and the GitOps repository. Create the Secret out of band (kubectl create secret, a sealed or external secret) and reference it as { name, key }"],
  ['a team Deployment that Pod Security "restricted" refuses', () => synthWith((chart) => { new kplus.Deployment(chart, 'api', { containers: [{ image: 'api:1', portNumber: 8080 }] }); }), `[test] Deployment 'test-api' (test/api/Resource) would be refused by Pod Security "restricted", which namespace 'platform-test' enforces: spec.template.spec.containers[main].securityContext.seccompProfile.type (or spec.template.spec.securityContext.seccompProfile.type) must be RuntimeDefault or Localhost; spec.template.spec.containers[main].securityContext.capabilities.drop must include ALL. Fix: build its containers with restrictedContainerSecurityContext(uid) and call restrictPod(workload) after adding them (both from cdk8s-platform-stack), or set these fields yourself`],
  ['pprof on the metrics port', () => synthWith((chart) => monitorGoService(goService(chart), { metricsPort: 6060, pprofPort: 6060 })), "monitorGoService 'test/api': pprofPort must be a port other than metricsPort (6060): Prometheus reaches the metrics port from the whole cluster, got 6060"],
];

describe('bad inputs fail the synth with a clear error', () => {
  test.each(CASES)('%s', (_name, build, expected) => {
    const message = thrownMessage(build);
    let from = 0;
    for (const fragment of typeof expected === 'string' ? [expected] : expected) {
      const at = message.indexOf(fragment, from);
      if (at < 0) expect(message.slice(from)).toContain(fragment); // fails, showing both
      from = at + fragment.length;
    }
  });
});
