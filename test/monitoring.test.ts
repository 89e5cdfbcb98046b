// Each system owns its alerts and dashboards (addMonitoring), and the app's Prometheus and Grafana
// collect them: a team's own construct the same way as the library's, in either order, each group
// and dashboard once; only from the namespaces a Prometheus scrapes, only the Grafana's own chart.
import * as path from 'path';
import { App, Chart, Testing } from 'cdk8s';
import { Construct } from 'constructs';
import { parse } from 'yaml';
import { addMonitoring, Grafana, Monitoring, Prometheus, Redis, RuleGroup } from '../lib';
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

  test('fails when a system brings dashboards after the Grafana of its chart was made', () => {
    const chart = new Chart(testApp(), 'test', { namespace: 'platform-test' });
    new Grafana(chart, 'grafana', { prometheus: prometheusStandIn(chart), ...admin });
    expect(thrownMessage(() => new OrdersApi(chart, 'orders-api'))).toBe(
      `Grafana 'test/grafana': 'test/orders-api' brings dashboards (${TEAM_DASHBOARD}) after the Grafana of its chart was made: make Grafana after the systems it shows`,
    );
  });
});
