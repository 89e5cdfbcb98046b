// The live loop (issue 15): dev's chart, synthesized, run as real processes (test/observability/):
// Redis on its redis.conf and users with redis_exporter, the router, NGINX with
// nginx-prometheus-exporter, the Alertmanager, and Prometheus (the image's version) scraping them
// through the chart's own relabel rules. Then every dashboard panel query and every rule of the
// chart must have data, but for the listed exceptions; and every alert must fire in a scenario made
// of a real fault and reach the test's webhook through the Alertmanager, but for the listed ones.
// Both lists are exact: an exception that has data, or an alert listed as unable to fire that
// fires, fails the test too.
import { Testing } from 'cdk8s';
import { K8sObject, environmentChart } from './support/synth';
import { LiveStack, startLiveStack } from './observability/stack';
import { WebhookReceiver, startWebhookReceiver } from './observability/alerting';
import { Dashboard, Rule, chartDashboards, chartRules, fillVariables, missingData, panelQueries, variableValues } from './observability/queries';
import { podScenarios, Scenario } from './observability/scenarios';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/**
 * Queries that cannot have data here, by `<dashboard> / <panel>` or `rule <name>`, with the reason.
 * Only what no process of this test can feed belongs here.
 */
const NOT_FED: Readonly<Record<string, string>> = {
  'Kubernetes / Pods / CPU usage per pod': "container_* series come from a kubelet's cAdvisor; no kubelet runs here",
  'Kubernetes / Pods / CPU usage / limit per pod': "container_* series come from a kubelet's cAdvisor (and kube_* from kube-state-metrics, not run here)",
  'Kubernetes / Pods / Memory working set per pod': "container_* series come from a kubelet's cAdvisor",
  'Kubernetes / Pods / Memory working set / limit per pod': "container_* series come from a kubelet's cAdvisor (and kube_* from kube-state-metrics, not run here)",
  'Kubernetes / Pods / Network received per pod': "container_* series come from a kubelet's cAdvisor",
  'Kubernetes / Pods / Network transmitted per pod': "container_* series come from a kubelet's cAdvisor",
  'rule namespace_pod_container:container_cpu_usage_seconds:rate5m': "reads cAdvisor's container_cpu_usage_seconds_total",
  'rule namespace_pod_container:container_cpu_limit_cores:max': "reads cAdvisor's container_spec_cpu_*",
  'rule PodCpuNearLimit': "reads the two cAdvisor recording rules above",
};

/** Alerts no scenario here can fire, with the reason. */
const CANNOT_FIRE: Readonly<Record<string, string>> = {
  PodCpuNearLimit: "needs a kubelet's cAdvisor (container CPU usage and quota)",
};

/** The test's copy of the rules: `for` at 2 s (1 s evaluations), and each listed threshold of time. */
const FOR = '2s';
const TIMING_CHANGES: Readonly<Record<string, readonly [string, string]>> = {
  // An hour without a snapshot: 5 s here (the save rules of redis.conf are untouched).
  RedisNoRecentSave: ['> 3600', '> 5'],
};

function testRules(group: Json): Json {
  return {
    ...group,
    rules: group.rules.map((rule: Json) => {
      if (!rule.alert) return rule;
      const change = TIMING_CHANGES[rule.alert];
      if (change && !rule.expr.includes(change[0])) throw new Error(`${rule.alert}: the test's timing change expects '${change[0]}' in ${rule.expr}`);
      return { ...rule, for: FOR, expr: change ? rule.expr.replace(change[0], change[1]) : rule.expr };
    }),
  };
}

/** A panel's name in the lists: `<dashboard title> / <panel title>`. */
const panelKey = (dashboard: Dashboard, panel: string) => `${dashboard.title} / ${panel}`;

let webhook: WebhookReceiver;
let stack: LiveStack;
let objects: K8sObject[];
let traffic: NodeJS.Timeout | undefined;

beforeAll(async () => {
  webhook = await startWebhookReceiver();
  // GIVEN dev's chart, its Alertmanager sending every alert to the test's webhook at once
  const chart = environmentChart('dev', (environment) => ({
    ...environment,
    alertmanager: {
      route: { receiver: 'test-webhook', group_by: ['alertname', 'namespace'], group_wait: '1s', group_interval: '1s', repeat_interval: '1h' },
      receivers: [{ name: 'test-webhook', webhook_configs: [{ url: webhook.url }] }],
    },
  }));
  objects = Testing.synth(chart) as K8sObject[];
  // AND its pods running here (Redis's volume: 64 MiB)
  stack = await startLiveStack(objects, webhook, { prefix: 'dev', nginx: chart.routing!.nginx, rules: testRules, redisVolumeBytes: 64 * 1024 * 1024 });
  // AND traffic through NGINX: mostly tenant lookups (Redis; no tenant is there yet, so the weighted rule decides), some by path
  let i = 0;
  traffic = setInterval(() => {
    i++;
    const headers: Record<string, string> = i % 5 === 0 ? {} : { 'X-Tenant': i % 2 ? 'acme' : 'globex' };
    fetch(`http://${stack.nginxAddress}${i % 5 === 0 ? '/b/page' : '/'}`, { headers }).then((r) => r.arrayBuffer()).catch(() => undefined);
  }, 50);
}, 120_000);

afterAll(async () => {
  clearInterval(traffic);
  await stack?.stop();
  await webhook?.close();
});

test('every dashboard panel and every rule of the chart has data, but for the listed queries nothing here can feed', async () => {
  const { prometheus } = stack;
  // WHEN every target is up and the rates have a few scrapes
  await prometheus.eventually(async () => {
    const active: Json[] = (await prometheus.api('/api/v1/targets?state=active')).activeTargets;
    return active.length > 0 && active.every((t) => t.health === 'up') ? true : undefined;
  }, 30_000);
  await new Promise((r) => setTimeout(r, 6000));
  const empty: Record<string, string[]> = {};
  // THEN each panel's queries, as Grafana sends them, have data
  for (const dashboard of chartDashboards(objects)) {
    const values = await variableValues(prometheus, dashboard).catch(() => ({}));
    // By panel title: what is missing from each of its queries.
    const panels = new Map<string, string[]>();
    for (const query of panelQueries(dashboard)) {
      const missing = await missingData(prometheus, fillVariables(query.expr, values));
      panels.set(query.panel, [...(panels.get(query.panel) ?? []), ...missing.map((m) => `${query.refId}: ${m}`)]);
    }
    const empties = [...panels].filter(([, missing]) => missing.length > 0);
    for (const [panel, missing] of empties) empty[panelKey(dashboard, panel)] = missing;
    console.log(`${dashboard.title}: panels with data ${panels.size - empties.length}/${panels.size}${empties.map(([panel]) => `\n  no data: ${panel}: ${NOT_FED[panelKey(dashboard, panel)] ?? 'UNEXPECTED'}`).join('')}`);
  }
  // AND each rule reads series that exist (and a recording rule's result too; an alert's is part 3)
  const rules: Rule[] = chartRules(objects);
  for (const rule of rules) {
    const missing = await missingData(prometheus, rule.expr, rule.kind === 'record');
    if (missing.length) empty[`rule ${rule.name}`] = missing;
  }
  console.log(`rules with data ${rules.length - Object.keys(empty).filter((k) => k.startsWith('rule ')).length}/${rules.length}`);
  expect(Object.fromEntries(Object.entries(empty).filter(([key]) => !NOT_FED[key]))).toEqual({});
  expect(Object.keys(NOT_FED).filter((key) => !empty[key])).toEqual([]);
}, 90_000);

test('every alert fires in a scenario made of a real fault and reaches the webhook through the Alertmanager, but for the listed ones', async () => {
  const alerts = chartRules(objects).filter((r) => r.kind === 'alert').map((r) => r.name);
  const scenarios: Scenario[][] = podScenarios(stack);
  const fired: Record<string, { scenario: string; receiver: string }> = {};
  // WHEN each lane of scenarios runs (lanes in parallel: they share no process)
  await Promise.all(scenarios.map(async (lane) => {
    for (const scenario of lane) {
      const started = Date.now();
      await scenario.fault();
      try {
        for (const expected of scenario.fires) {
          // THEN the alert reaches the webhook, with the labels that say where
          const got = await stack.prometheus.eventually(async () => webhook.alerts().find((a) => a.at >= started && a.status === 'firing' && a.labels.alertname === expected.alertname && Object.entries(expected.labels ?? {}).every(([k, v]) => a.labels[k] === v)), 45_000)
            .catch((error) => { throw new Error(`${scenario.name}: ${expected.alertname} never reached the webhook (${(error as Error).message.split('\n')[0]}); received: ${JSON.stringify(webhook.alerts().map((a) => a.labels))}`); });
          fired[expected.alertname] ??= { scenario: scenario.name, receiver: got.receiver };
        }
      } finally {
        await scenario.recover?.();
      }
    }
  }));
  console.log(`webhook got, in order: ${webhook.alerts().map((a) => `${a.labels.alertname}{${Object.entries(a.labels).filter(([k]) => ['pod', 'job', 'instance'].includes(k)).map(([k, v]) => `${k}=${v}`).join(',')}}`).join(' ')}`);
  for (const alert of alerts) console.log(`${alert}: ${fired[alert] ? `fired by "${fired[alert].scenario}", received by ${fired[alert].receiver}` : `not fired: ${CANNOT_FIRE[alert] ?? 'UNEXPECTED'}`}`);
  expect(alerts.filter((a) => !fired[a] && !CANNOT_FIRE[a])).toEqual([]);
  // AND the list of those that cannot fire is exact: none of them fired, each is an alert of the chart
  expect(Object.keys(CANNOT_FIRE).filter((a) => !alerts.includes(a) || webhook.alerts().some((n) => n.labels.alertname === a))).toEqual([]);
}, 150_000);
