// Each system owns its alerts and dashboards (addMonitoring), and the app's Prometheus and Grafana
// collect them: a team's own construct the same way as the library's, in either order, each group
// and dashboard once; only from the namespaces a Prometheus scrapes, only the Grafana's own chart.
import * as fs from 'fs';
import * as path from 'path';
import { App, Chart, Testing } from 'cdk8s';
import { Construct } from 'constructs';
import { parse } from 'yaml';
import { addMonitoring, Grafana, KubeStateMetrics, Monitoring, platformDashboardsDir, Prometheus, Redis, RuleGroup, shippedDashboard } from '../lib';
import { tempDir } from './support/engines';
import { findObject, K8sObject, prometheusStandIn, testApp, thrownMessage } from './support/synth';

const TEAM_DASHBOARD = path.join(__dirname, '..', 'examples', 'team-app', 'dashboards', 'orders', 'orders-api.json');
const teamGroup: RuleGroup = { name: 'orders', rules: [{ alert: 'OrdersApiDown', expr: 'up{job="kubernetes-pods", app="orders-api"} == 0', for: '5m', labels: { severity: 'critical' } }] };
const admin = { adminUser: { name: 'grafana-admin', key: 'admin-user' }, adminPassword: { name: 'grafana-admin', key: 'admin-password' } };

/** A team's own construct that brings its alerts and dashboard, as the library's do. */
class OrdersApi extends Construct {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    addMonitoring(this, { ruleGroups: [teamGroup], dashboards: [TEAM_DASHBOARD] });
  }
}

/** A team's construct that brings dashboards only (here the package's own, or a file of its own). */
class BringsDashboards extends Construct {
  constructor(scope: Construct, id: string, dashboards: readonly string[]) {
    super(scope, id);
    addMonitoring(this, { dashboards });
  }
}

const ruleFiles = (objects: K8sObject[], name = 'test-prometheus') => Object.keys(findObject(objects, 'ConfigMap', name).data).filter((k) => k.endsWith('.rules.yml')).sort();
const dashboards = (objects: K8sObject[]) => objects.filter((o) => o.kind === 'ConfigMap' && /-dashboard-(?!providers)/.test(o.metadata.name)).map((o) => o.metadata.name).sort();

describe('addMonitoring', () => {
  test("a team's construct brings its rule group and dashboard; Prometheus collects it made before or after it, Grafana made after it", () => {
    for (const order of ['system first', 'prometheus first']) {
      // GIVEN a chart with a team construct, Prometheus and Grafana
      const chart = new Chart(testApp(), 'test', { namespace: 'platform-test' });
      let prometheus: Prometheus;
      if (order === 'system first') {
        new OrdersApi(chart, 'orders-api');
        prometheus = new Prometheus(chart, 'prometheus');
      } else {
        prometheus = new Prometheus(chart, 'prometheus');
        new OrdersApi(chart, 'orders-api');
      }
      new Grafana(chart, 'grafana', { prometheus, ...admin });
      // WHEN it is synthesized
      const objects = Testing.synth(chart) as K8sObject[];
      // THEN its group is a rule file, its dashboard a ConfigMap, beside Prometheus's own
      expect({ order, files: ruleFiles(objects) }).toEqual({ order, files: ['orders.rules.yml', 'platform.rules.yml'] });
      expect(parse(findObject(objects, 'ConfigMap', 'test-prometheus').data['orders.rules.yml']).groups).toEqual([teamGroup]);
      expect(dashboards(objects)).toEqual(['test-grafana-dashboard-orders-orders-api', 'test-grafana-dashboard-platform-go-runtime']);
    }
  });

  test('a construct given monitoring twice (monitorGoService, then its own) keeps both', () => {
    const chart = new Chart(testApp(), 'test', { namespace: 'platform-test' });
    const api = new OrdersApi(chart, 'orders-api');
    addMonitoring(api, { ruleGroups: [{ name: 'orders-slo', rules: [{ record: 'orders:up:sum', expr: 'sum(up)' }] }] });
    const prometheus = new Prometheus(chart, 'prometheus');
    expect(Monitoring.of(chart).map((m) => m.node.path)).toEqual(['test/orders-api/monitoring', 'test/orders-api/monitoring-2', 'test/prometheus/monitoring']);
    expect(prometheus.ruleGroups.map((g) => g.name)).toEqual(['orders', 'orders-slo', 'platform']);
  });

  test('two Redis bring the redis group and dashboard once', () => {
    const chart = new Chart(testApp(), 'test', { namespace: 'platform-test' });
    const prometheus = new Prometheus(chart, 'prometheus');
    new Redis(chart, 'cache', { preset: 'cache' });
    new Redis(chart, 'sessions', { preset: 'durable' });
    new Grafana(chart, 'grafana', { prometheus, ...admin });
    const objects = Testing.synth(chart) as K8sObject[];
    expect(ruleFiles(objects)).toEqual(['platform.rules.yml', 'redis.rules.yml']);
    expect(dashboards(objects)).toEqual(['test-grafana-dashboard-platform-go-runtime', 'test-grafana-dashboard-platform-redis']);
    expect(Monitoring.of(chart).map((m) => m.node.path)).toEqual(['test/prometheus/monitoring', 'test/cache/monitoring', 'test/sessions/monitoring']);
  });

  test('a Prometheus collects from the namespaces it scrapes only; a Grafana from its own chart only', () => {
    // GIVEN a shared Prometheus scraping `orders` but not `payments`, and a Grafana in `orders`
    const app = new App();
    const monitoring = new Chart(app, 'monitoring', { namespace: 'monitoring' });
    const prometheus = new Prometheus(monitoring, 'prometheus', { scrapeNamespaces: ['orders'] });
    const orders = new Chart(app, 'orders', { namespace: 'orders' });
    new OrdersApi(orders, 'orders-api');
    new Grafana(orders, 'grafana', { prometheus: prometheusStandIn(orders), ...admin });
    const payments = new Chart(app, 'payments', { namespace: 'payments' });
    addMonitoring(new Construct(payments, 'payments-api'), { ruleGroups: [{ name: 'payments', rules: [{ record: 'x:up:sum', expr: 'sum(up)' }] }] });
    new Grafana(payments, 'grafana', { prometheus: prometheusStandIn(payments), ...admin });
    // THEN the orders group is evaluated, the payments one is not (its series are not scraped)
    expect(ruleFiles(Testing.synth(monitoring) as K8sObject[], 'monitoring-prometheus')).toEqual(['orders.rules.yml', 'platform.rules.yml']);
    expect(prometheus.ruleGroups.map((g) => g.name)).toEqual(['platform', 'orders']);
    // AND each Grafana shows its chart's dashboards: the payments one none of the orders'
    expect(dashboards(Testing.synth(orders) as K8sObject[])).toHaveLength(1);
    expect(dashboards(Testing.synth(payments) as K8sObject[])).toEqual([]);
  });

  test('fails when another group takes a name a system brings, naming both', () => {
    const chart = new Chart(testApp(), 'test', { namespace: 'platform-test' });
    new Prometheus(chart, 'prometheus', { ruleGroups: [{ name: 'orders', rules: [{ record: 'a:b:c', expr: 'up' }] }] });
    expect(thrownMessage(() => new OrdersApi(chart, 'orders-api'))).toBe(
      "Prometheus 'test/prometheus': the rule group 'orders' of 'test/orders-api' must have a name of its own, got one a different group already has (groups: orders, platform)",
    );
  });

  test('fails when a system brings a bad rule group, naming it and the rule', () => {
    const chart = new Chart(testApp(), 'test', { namespace: 'platform-test' });
    new Prometheus(chart, 'prometheus');
    const bad = new Construct(chart, 'api');
    expect(thrownMessage(() => addMonitoring(bad, { ruleGroups: [{ name: 'api', rules: [{ alert: 'ApiDown', expr: 'up == 0', for: 'soon' }] }] }))).toBe(
      "addMonitoring 'test/api': ruleGroups[0].rules[0].for must be a Prometheus duration such as 30s, 5m, 1h30m or 15d (units y w d h m s ms, largest first), got 'soon'",
    );
  });

});

describe('Grafana collects the dashboards of its chart in any order', () => {
  /** Every object of a chart where `systems` are made before or after Grafana (Prometheus, bringing go-runtime, first). */
  function synthOrder(grafanaFirst: boolean, systems: (chart: Chart) => void, grafanaProps: { dashboardsDirs?: string[] } = {}): K8sObject[] {
    const chart = new Chart(testApp(), 'test', { namespace: 'platform-test' });
    const prometheus = new Prometheus(chart, 'prometheus');
    if (!grafanaFirst) systems(chart);
    new Grafana(chart, 'grafana', { prometheus, ...admin, labels: { team: 'platform' }, ...grafanaProps });
    if (grafanaFirst) systems(chart);
    return Testing.synth(chart) as K8sObject[];
  }
  const grafanaObjects = (objects: K8sObject[]) => objects.filter((o) => o.metadata.name.startsWith('test-grafana'));
  const byKindAndName = (objects: K8sObject[]) => [...objects].sort((a, b) => (`${a.kind}/${a.metadata.name}` < `${b.kind}/${b.metadata.name}` ? -1 : 1));
  // A folder of a team's own dashboards, removed after the tests.
  const tempDirs: string[] = [];
  afterAll(() => tempDirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));
  const teamFolder = (folder: string) => {
    const root = tempDir('team-dashboards');
    tempDirs.push(root);
    fs.mkdirSync(path.join(root, folder));
    return path.join(root, folder);
  };
  const dashboardVolumes = (objects: K8sObject[]) => findObject(objects, 'Deployment', 'test-grafana').spec.template.spec.volumes.filter((v: { name: string }) => v.name.startsWith('dashboards'));

  test('a system made after Grafana gets its dashboards provisioned exactly as one made before: same objects, content and order', () => {
    // GIVEN systems whose dashboards sort before and after those Grafana already has: a new file
    // before go-runtime, a new folder (kubernetes) before platform, a folder of a team's own
    const systems = (chart: Chart) => {
      new Redis(chart, 'cache', { preset: 'cache' }); // platform/redis.json
      new BringsDashboards(chart, 'alerts', [shippedDashboard('platform/alertmanager.json')]);
      new KubeStateMetrics(chart, 'kube-state-metrics'); // kubernetes/pods.json
      new OrdersApi(chart, 'orders-api'); // orders/orders-api.json
    };
    // WHEN they are made before Grafana, and after it
    const before = synthOrder(false, systems);
    const after = synthOrder(true, systems);
    // THEN Grafana's objects are the same, in the same order; the chart holds the same objects
    expect(grafanaObjects(after)).toEqual(grafanaObjects(before));
    expect(byKindAndName(after)).toEqual(byKindAndName(before));
    // AND every dashboard is provisioned, its ConfigMaps in path order, one volume and provider per folder in order
    expect(grafanaObjects(after).filter((o) => o.metadata.labels?.['app.kubernetes.io/component'] === 'dashboard').map((o) => o.metadata.name)).toEqual([
      'test-grafana-dashboard-kubernetes-pods',
      'test-grafana-dashboard-platform-alertmanager',
      'test-grafana-dashboard-platform-go-runtime',
      'test-grafana-dashboard-platform-redis',
      'test-grafana-dashboard-orders-orders-api',
    ]);
    expect(dashboardVolumes(after).map((v: { name: string }) => v.name)).toEqual(['dashboards-kubernetes', 'dashboards-orders', 'dashboards-platform']);
    const providers = parse(after.find((o) => o.metadata.name.startsWith('test-grafana-dashboard-providers'))!.data['dashboards.yaml']).providers;
    expect(providers.map((p: { name: string }) => p.name)).toEqual(['folder-kubernetes', 'folder-orders', 'folder-platform']);
    // AND a late ConfigMap carries Grafana's labels, as the others do
    expect(findObject(after, 'ConfigMap', 'test-grafana-dashboard-orders-orders-api').metadata.labels).toMatchObject({ team: 'platform', 'app.kubernetes.io/component': 'dashboard' });
  });

  test("the pods roll when a later system's dashboard changes: the checksum covers it", () => {
    const checksum = (file: string) => {
      const objects = synthOrder(true, (chart) => new BringsDashboards(chart, 'team', [file]));
      return findObject(objects, 'Deployment', 'test-grafana').spec.template.metadata.annotations['checksum/provisioning'];
    };
    const dir = teamFolder('orders');
    const copy = path.join(dir, 'orders-api.json');
    fs.writeFileSync(copy, fs.readFileSync(TEAM_DASHBOARD));
    const model = JSON.parse(fs.readFileSync(TEAM_DASHBOARD, 'utf8'));
    const changed = path.join(dir, 'changed.json');
    fs.writeFileSync(changed, JSON.stringify({ ...model, title: `${model.title} (changed)` }));
    const alone = findObject(synthOrder(true, () => undefined), 'Deployment', 'test-grafana').spec.template.metadata.annotations['checksum/provisioning'];
    expect(checksum(copy)).not.toBe(alone);
    expect(checksum(changed)).not.toBe(checksum(copy));
  });

  test('a dashboard two systems bring, or its folder holds too, is provisioned once in both orders', () => {
    for (const dashboardsDirs of [[], [platformDashboardsDir()]]) {
      const systems = (chart: Chart) => {
        new Redis(chart, 'cache', { preset: 'cache' });
        new Redis(chart, 'sessions', { preset: 'durable' });
      };
      const before = synthOrder(false, systems, { dashboardsDirs });
      const after = synthOrder(true, systems, { dashboardsDirs });
      expect(grafanaObjects(after)).toEqual(grafanaObjects(before));
      expect(after.filter((o) => o.metadata.name === 'test-grafana-dashboard-platform-redis')).toHaveLength(1);
      const sources = dashboardVolumes(after).flatMap((v: { projected: { sources: { configMap: { name: string } }[] } }) => v.projected.sources.map((s) => s.configMap.name));
      expect(sources.filter((name: string) => name === 'test-grafana-dashboard-platform-redis')).toHaveLength(1);
    }
  });

  test('fails when a system brings a dashboard whose ConfigMap name another has, with the same message in both orders', () => {
    // GIVEN a team's copy of go-runtime.json under a folder also called platform
    const dir = teamFolder('platform');
    const clash = path.join(dir, 'go-runtime.json');
    fs.writeFileSync(clash, fs.readFileSync(shippedDashboard('platform/go-runtime.json')));
    // WHEN the team's construct is made before Grafana, and after it (Prometheus, which brings the shipped one, is first)
    const messages = [false, true].map((grafanaFirst) => thrownMessage(() => synthOrder(grafanaFirst, (chart) => new BringsDashboards(chart, 'team', [clash]))));
    // THEN both fail naming Grafana, the file, the system that brings it and the other file
    expect(messages[0]).toBe([
      "Grafana 'test/grafana': 1 dashboard problem in the dashboards its chart's systems bring (Grafana would skip or break these at run time):",
      "  - platform/go-runtime.json (brought by 'test/team'): file name must give a ConfigMap name distinct from platform/go-runtime.json's, both give 'platform-go-runtime'",
    ].join('\n'));
    expect(messages[1]).toBe(messages[0]);
  });

  test('fails when a system brings a dashboard too big for client-side kubectl apply, with the same message in both orders', () => {
    // GIVEN a team's dashboard of 300 kB
    const dir = teamFolder('team');
    const big = path.join(dir, 'big.json');
    fs.writeFileSync(big, JSON.stringify({ title: 'Big', uid: 'big', description: 'x'.repeat(300_000), panels: [] }));
    // WHEN its construct is made before Grafana, and after it
    const messages = [false, true].map((grafanaFirst) => thrownMessage(() => synthOrder(grafanaFirst, (chart) => new BringsDashboards(chart, 'team', [big]))));
    // THEN both fail naming the file, its ConfigMap and the bytes kubectl would store
    expect(messages[0]).toMatch(/^Validation failed with the following errors:\n {2}\[test\] Grafana 'test\/grafana': 1 dashboard problem in the dashboards its chart's systems bring .*:\n {2}- team\/big.json: its ConfigMap test-grafana-dashboard-team-big would put 3\d{5} bytes/);
    expect(messages[1]).toBe(messages[0]);
  });
});
