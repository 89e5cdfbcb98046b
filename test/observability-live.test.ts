// The live loop (issue 15): dev's chart, synthesized, run as real processes (test/observability/):
// Redis on its redis.conf and users with redis_exporter, the router, NGINX with
// nginx-prometheus-exporter, node_exporter on this machine, a Go service as monitorGoService
// annotates it, kube-state-metrics on a local control plane the chart is applied to, the
// Alertmanager, and Prometheus (the image's version) scraping them through the chart's own relabel
// rules. Then every dashboard panel query and every rule of the
// chart must have data, but for the listed exceptions; and every alert must fire in a scenario made
// of a real fault and reach the test's webhook through the Alertmanager, but for the listed ones.
// Both lists are exact: an exception that has data, or an alert listed as unable to fire that
// fires, fails the test too.
import { Duration, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { monitorGoService, restrictPod } from '../lib';
import { freePort } from './support/engines';
import * as YAML from 'yaml';
import { K8sObject, configMapFile, environmentChart } from './support/synth';
import { LiveStack, NODE_NAME, startLiveStack } from './observability/stack';
import { WebhookReceiver, startWebhookReceiver } from './observability/alerting';
import { Dashboard, Rule, chartDashboards, chartRules, fillVariables, missingData, missingPanelData, panelQueries, variableValues } from './observability/queries';
import { podScenarios, Scenario } from './observability/scenarios';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/**
 * Queries that cannot have data here, by `<dashboard> / <panel>` or `rule <name>`, with the reason.
 * Only what no process of this test can feed belongs here.
 */
const NOT_FED: Readonly<Record<string, string>> = {
  'Kubernetes / Pods / CPU usage per pod': "container_* series come from a kubelet's cAdvisor; no kubelet runs here",
  'Kubernetes / Pods / CPU usage / limit per pod': "container_* series come from a kubelet's cAdvisor (kube-state-metrics gives the limits)",
  'Kubernetes / Pods / Memory working set per pod': "container_* series come from a kubelet's cAdvisor",
  'Kubernetes / Pods / Memory working set / limit per pod': "container_* series come from a kubelet's cAdvisor (kube-state-metrics gives the limits)",
  'Kubernetes / Pods / Network received per pod': "container_* series come from a kubelet's cAdvisor",
  'Kubernetes / Pods / Network transmitted per pod': "container_* series come from a kubelet's cAdvisor",
  'rule namespace_pod_container:container_cpu_usage_seconds:rate5m': "reads cAdvisor's container_cpu_usage_seconds_total",
  'rule namespace_pod_container:container_cpu_limit_cores:max': "reads cAdvisor's container_spec_cpu_*",
  'rule PodCpuNearLimit': "reads the two cAdvisor recording rules above",
  'rule KubePodCrashLooping': 'kube-state-metrics writes the waiting reason of a container a kubelet reports waiting; no kubelet runs here (its pods have no container status)',
};

/** Alerts no scenario here can fire, with the reason. */
const CANNOT_FIRE: Readonly<Record<string, string>> = {
  PodCpuNearLimit: "needs a kubelet's cAdvisor (container CPU usage and quota)",
  KubePodCrashLooping: 'needs a kubelet restarting a crashing container (the waiting reason is Pod status a kubelet writes); no kubelet runs here',
  NodeMemoryAlmostFull: "needs 95% of this machine's memory in use: not a fault a test on a shared machine may cause (its series are checked to have data)",
};

/** The test's copy of the rules: `for` at 2 s (1 s evaluations), and each listed threshold of time. */
const FOR = '2s';
const TIMING_CHANGES: Readonly<Record<string, readonly [string, string]>> = {
  // An hour without a snapshot: 5 s here (the save rules of redis.conf are untouched).
  RedisNoRecentSave: ['> 3600', '> 5'],
  // Failing for all of the last 5 minutes: 5 s here.
  AlertmanagerConfigReloadFailed: ['[5m]', '[5s]'],
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
  // GIVEN dev's chart, its Alertmanager sending every alert to the test's webhook at once, and a
  // node's TargetDown also to a receiver whose endpoint is down (nothing listens at its URL)
  const unreachable = `http://127.0.0.1:${await freePort()}/alerts`;
  const chart = environmentChart('dev', (environment) => ({
    ...environment,
    // Scrapes time out after 1 s here (10 s in the pod): the exporter must give up on Redis sooner.
    redis: { ...environment.redis, exporterTimeout: Duration.millis(500) },
    alertmanager: {
      route: {
        receiver: 'test-webhook',
        group_by: ['alertname', 'namespace'],
        group_wait: '1s',
        group_interval: '1s',
        repeat_interval: '1h',
        routes: [{ matchers: ['alertname="TargetDown"', 'job="kubernetes-nodes"'], receiver: 'unreachable-webhook', continue: true }, { receiver: 'test-webhook' }],
      },
      receivers: [{ name: 'test-webhook', webhook_configs: [{ url: webhook.url }] }, { name: 'unreachable-webhook', webhook_configs: [{ url: unreachable }] }],
    },
  }));
  // AND a Go service of a team, monitored as monitorGoService does (metrics on 8080, pprof on 6060)
  const goService = restrictPod(new kplus.Deployment(chart, 'go-service', { containers: [{ image: 'example/go-service:1.0.0', portNumber: 8080 }] }));
  monitorGoService(goService, { metricsPort: 8080 });
  objects = Testing.synth(chart) as K8sObject[];
  // AND its pods running here (Redis's volume: 64 MiB)
  stack = await startLiveStack(objects, webhook, { prefix: 'dev', nginx: chart.routing!.nginx, goService: 'go-service', rules: testRules, redisVolumeBytes: 64 * 1024 * 1024 });
}, 120_000);

/**
 * Traffic through NGINX from now on, 20 requests/s: tenant lookups, each asking Redis (no tenant is
 * there, so the weighted rule decides while Redis answers; every decision fails while it does not).
 */
function startTraffic(): void {
  if (traffic) return;
  let i = 0;
  traffic = setInterval(() => {
    i++;
    fetch(`http://${stack.nginxAddress}/`, { headers: { 'X-Tenant': i % 2 ? 'acme' : 'globex' } }).then((r) => r.arrayBuffer()).catch(() => undefined);
  }, 50);
}

/** A panel's first query, as Grafana sends it. */
async function panelQuery(dashboardTitle: string, panel: string): Promise<string> {
  const dashboard = chartDashboards(objects).find((d) => d.title === dashboardTitle)!;
  const query = panelQueries(dashboard).find((q) => q.panel === panel);
  if (!query) throw new Error(`${dashboardTitle} has no panel ${panel}`);
  return fillVariables(query.expr, (await variableValues(stack.prometheus, dashboard)).values);
}

test('a router that has not decided yet exports its decision series at 0: Decisions/s reads 0 and Decision p99 has a sample', async () => {
  const { prometheus } = stack;
  // WHEN the router is scraped before any request
  const series = await prometheus.eventually(async () => {
    const result = await prometheus.query(`router_decisions_total{pod="${stack.router.pod.name}"}`);
    return result.length ? result : undefined;
  });
  // THEN every target of every strategy of its rules (and the default) is there, at 0
  expect(series.every((s) => s.value[1] === '0')).toBe(true);
  expect(series.map((s) => `${s.metric.strategy}/${s.metric.target}`).sort()).toEqual(['default', 'header', 'pathPrefix', 'redisLookup', 'weighted'].flatMap((strategy) => ['echo-a', 'echo-b'].map((target) => `${strategy}/${target}`)));
  // AND the panels have data: 0 decisions/s, and a p99 sample (NaN: the panel maps it to "no decisions")
  const sample = async (expr: string) => {
    const result = await prometheus.query(expr);
    return result.length ? result.map((r) => Number(r.value[1])) : undefined;
  };
  expect(await prometheus.eventually(async () => sample(await panelQuery('NGINX router', 'Decisions/s')))).toEqual([0]);
  expect(await prometheus.eventually(async () => sample(await panelQuery('NGINX router', 'Decision p99')))).toEqual([NaN]);
}, 30_000);

afterAll(async () => {
  clearInterval(traffic);
  await stack?.stop();
  await webhook?.close();
});

test("a pod's series carry its labels, but none that changes at every rollout or only repeats another", async () => {
  const { prometheus } = stack;
  const up = await prometheus.eventually(async () => {
    const result = await prometheus.query('up{job="kubernetes-pods"}');
    return result.length ? result : undefined;
  });
  // THEN the labels of the pod template and the ones the relabel rules set, and not the controllers'
  // hashes (a new series at each rollout of the same pod) nor cdk8s's selector hash
  for (const series of up) {
    expect(Object.keys(series.metric).filter((label) => /hash|pod_name|pod_index|pod_template_generation|cdk8s/.test(label))).toEqual([]);
    expect(series.metric).toMatchObject({ namespace: stack.namespace, pod: expect.any(String), node: NODE_NAME });
  }
}, 30_000);

test("the Go service's pprof port is declared on its pod but never scraped: one target, at the metrics port", async () => {
  const { prometheus, goService } = stack;
  const pprof = goService.pod.workload.spec.template.spec.containers[0].ports.find((p: Json) => p.name === 'pprof').containerPort;
  // GIVEN pprof answering on the pod's own address
  expect((await fetch(`http://${goService.pod.ip}:${pprof}/debug/pprof/cmdline`)).status).toBe(200);
  // THEN discovery's two targets (one per container port) are one after relabeling, on the annotated port
  const targets = await prometheus.eventually(async () => {
    const active: Json[] = (await prometheus.api('/api/v1/targets?state=active')).activeTargets.filter((t: Json) => t.labels.pod === goService.pod.name);
    return active.length ? active : undefined;
  });
  expect(targets.map((t) => t.scrapeUrl)).toEqual([`http://${goService.pod.ip}:8080/metrics`]);
}, 30_000);

test('every dashboard panel and every rule of the chart has data, but for the listed queries nothing here can feed', async () => {
  const { prometheus } = stack;
  startTraffic();
  // WHEN every target is up and the rates have a few scrapes
  await prometheus.eventually(async () => {
    const active: Json[] = (await prometheus.api('/api/v1/targets?state=active')).activeTargets;
    return active.length > 0 && active.every((t) => t.health === 'up') ? true : undefined;
  }, 30_000);
  await new Promise((r) => setTimeout(r, 6000));
  // GIVEN what feeds each scrape job of the chart here (every job of prometheus.yml, said once)
  const jobs = YAML.parse(configMapFile(objects, 'dev-prometheus', 'prometheus.yml')).scrape_configs.map((j: Json) => j.job_name);
  expect(Object.keys(stack.jobs).sort()).toEqual([...jobs].sort());
  for (const [job, fed] of Object.entries(stack.jobs)) console.log(`scrape job ${job}: ${fed}`);
  const empty: Record<string, string[]> = {};
  // THEN each panel's queries, as Grafana sends them, have data
  for (const dashboard of chartDashboards(objects)) {
    const variables = await variableValues(prometheus, dashboard);
    // By panel title: what is missing from each of its queries.
    const panels = new Map<string, string[]>();
    for (const query of panelQueries(dashboard)) {
      const missing = await missingPanelData(prometheus, query.expr, variables);
      panels.set(query.panel, [...(panels.get(query.panel) ?? []), ...missing.map((m) => `${query.refId}: ${m}`)]);
    }
    const empties = [...panels].filter(([, missing]) => missing.length > 0);
    for (const [panel, missing] of empties) empty[panelKey(dashboard, panel)] = missing;
    console.log(`${dashboard.title}: panels with data ${panels.size - empties.length}/${panels.size}${empties.map(([panel, missing]) => `\n  no data: ${panel}: ${NOT_FED[panelKey(dashboard, panel)] ?? 'UNEXPECTED'} (${missing.map((m) => (m.length > 110 ? `${m.slice(0, 110)}...` : m)).join('; ')})`).join('')}`);
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
  const rules = chartRules(objects).filter((r) => r.kind === 'alert');
  const alerts = rules.map((r) => r.name);
  startTraffic();
  const scenarios: Scenario[][] = podScenarios(stack, panelQuery);
  const fired: Record<string, { scenario: string; receiver: string }[]> = {};
  // WHEN each lane of scenarios runs (lanes in parallel: they share no process)
  await Promise.all(scenarios.map(async (lane) => {
    for (const scenario of lane) {
      const started = Date.now();
      await scenario.fault();
      try {
        for (const expected of scenario.fires) {
          // THEN the alert reaches the webhook, with the labels that say where
          const got = await stack.prometheus.eventually(async () => webhook.alerts().find((a) => (scenario.atSetup || a.at >= started) && a.status === 'firing' && a.labels.alertname === expected.alertname && Object.entries(expected.labels ?? {}).every(([k, v]) => a.labels[k] === v)), 45_000)
            .catch((error) => { throw new Error(`${scenario.name}: ${expected.alertname} never reached the webhook (${(error as Error).message.split('\n')[0]}); received: ${JSON.stringify(webhook.alerts().map((a) => a.labels))}`); });
          (fired[expected.alertname] ??= []).push({ scenario: scenario.name, receiver: got.receiver });
          if (expected.summary) expect(got.annotations.summary).toBe(expected.summary);
          // AND its summary and description name only labels it has (a missing one renders as nothing),
          // but inside a `{{ with $labels.x }}` that leaves the text out without it
          const templates = Object.values(rules.find((r) => r.name === expected.alertname)!.annotations).join(' ').replace(/\{\{ with \$labels\.\w+ \}\}.*?\{\{ end \}\}/g, '');
          const named = [...templates.matchAll(/\$labels\.(\w+)/g)].map((m) => m[1]);
          expect({ alert: expected.alertname, missing: named.filter((label) => !(label in got.labels)) }).toEqual({ alert: expected.alertname, missing: [] });
        }
        await scenario.check?.();
      } finally {
        await scenario.recover?.();
      }
    }
  }));
  console.log(`webhook got, in order: ${webhook.alerts().map((a) => `${a.labels.alertname}{${Object.entries(a.labels).filter(([k]) => ['pod', 'job', 'instance'].includes(k)).map(([k, v]) => `${k}=${v}`).join(',')}}`).join(' ')}`);
  for (const alert of alerts) console.log(`${alert}: ${fired[alert] ? fired[alert].map((f) => `fired by "${f.scenario}", received by ${f.receiver}`).join('; ') : `not fired: ${CANNOT_FIRE[alert] ?? 'UNEXPECTED'}`}`);
  expect(alerts.filter((a) => !fired[a] && !CANNOT_FIRE[a])).toEqual([]);
  // AND the list of those that cannot fire is exact: none of them fired, each is an alert of the chart
  expect(Object.keys(CANNOT_FIRE).filter((a) => !alerts.includes(a) || webhook.alerts().some((n) => n.labels.alertname === a))).toEqual([]);
}, 150_000);
