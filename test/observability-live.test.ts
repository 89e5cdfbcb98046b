// Issue 15's problems, proven on the real thing: dev's synthesized prometheus.yml and rule files in
// a real Prometheus at the image's version (3.16.0, `npm run engines`), scraping the real router
// (lib/router/service/main.ts) whose Redis is down, a Go service's metrics as client_golang writes
// them, and a node through the kubelet jobs' relabel rules; the shipped dashboards' panel queries
// and rules are then evaluated through the HTTP API.
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import { freePort, tempDir } from './support/engines';
import { startPrometheus, RunningPrometheus, TargetGroup } from './support/prometheus-server';
import { synthEnvironment } from './support/synth';
import { get, startRouter } from './nginx/stack';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const NAMESPACE = 'platform-dev';
const DASHBOARDS = path.join(__dirname, '..', 'dashboards');

/** A panel's queries as Grafana sends them: the dashboard's variables and the rate interval filled in. */
function panelQueries(file: string, title: string): string[] {
  const model = JSON.parse(fs.readFileSync(path.join(DASHBOARDS, file), 'utf8'));
  const panel = model.panels.find((p: Json) => p.title === title);
  if (!panel) throw new Error(`${file} has no panel '${title}'`);
  // $__rate_interval: four scrapes of 1 s at least, as Grafana computes it from timeInterval.
  return panel.targets.map((t: Json) => (t.expr as string).replaceAll('$namespace', NAMESPACE).replaceAll('$pod', '.+').replaceAll('$__rate_interval', '10s'));
}

/** client_golang's exposition of a Go process (its summary writes the maximum as quantile="1"). */
const GO_METRICS = [
  '# HELP go_gc_duration_seconds A summary of the wall-time pause (stop-the-world) duration in garbage collection cycles.',
  '# TYPE go_gc_duration_seconds summary',
  'go_gc_duration_seconds{quantile="0"} 2.3e-05',
  'go_gc_duration_seconds{quantile="0.25"} 3.1e-05',
  'go_gc_duration_seconds{quantile="0.5"} 4.2e-05',
  'go_gc_duration_seconds{quantile="0.75"} 6e-05',
  'go_gc_duration_seconds{quantile="1"} 0.000512',
  'go_gc_duration_seconds_sum 0.0021',
  'go_gc_duration_seconds_count 31',
  '# HELP go_goroutines Number of goroutines that currently exist.',
  '# TYPE go_goroutines gauge',
  'go_goroutines 12',
  '',
].join('\n');

/** The meta labels pod discovery attaches to a running pod annotated for scraping. */
function annotatedPod(name: string, port: number): TargetGroup {
  return {
    targets: [`127.0.0.1:${port}`],
    labels: {
      __meta_kubernetes_namespace: NAMESPACE,
      __meta_kubernetes_pod_name: name,
      __meta_kubernetes_pod_ip: '127.0.0.1',
      __meta_kubernetes_pod_phase: 'Running',
      __meta_kubernetes_pod_node_name: 'node-a',
      __meta_kubernetes_pod_annotation_prometheus_io_scrape: 'true',
      __meta_kubernetes_pod_annotation_prometheus_io_port: String(port),
      __meta_kubernetes_pod_annotation_prometheus_io_path: '/metrics',
    },
  };
}

describe("dev's Prometheus (3.16.0) on a router whose Redis is down, a Go service and a node", () => {
  let prometheus: RunningPrometheus;
  let router: Awaited<ReturnType<typeof startRouter>>;
  let goService: http.Server;
  let dir: string;

  beforeAll(async () => {
    dir = tempDir('observability-live');
    // GIVEN the router deciding by a Redis key, its Redis on a port nothing listens on
    const redisPort = await freePort();
    router = await startRouter(JSON.stringify({
      targets: ['app-a', 'app-b'],
      rules: [{ strategy: 'redisLookup', params: { keyPrefix: 'route:', key: { header: 'x-tenant' } } }],
      redis: { host: '127.0.0.1', port: redisPort, timeoutMs: 200 },
    }), dir);
    // AND a Go service's /metrics
    const goPort = await freePort();
    goService = http.createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' }).end(GO_METRICS));
    await new Promise<void>((resolve) => goService.listen(goPort, '127.0.0.1', resolve));
    // AND dev's Prometheus, discovering them as pods, and a node whose kubelet cannot be reached
    prometheus = await startPrometheus(synthEnvironment('dev'), 'dev-prometheus', {
      'kubernetes-pods': [annotatedPod('router-1', router.port), annotatedPod('api-1', goPort)],
      'kubernetes-nodes': [{ targets: ['10.255.0.1:10250'], labels: { __meta_kubernetes_node_name: 'node-a', __meta_kubernetes_node_address_InternalIP: '10.255.0.1' } }],
    });
  }, 30_000);

  afterAll(async () => {
    await prometheus?.stop();
    await router?.stop();
    await new Promise((resolve) => goService?.close(resolve));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const sample = async (expr: string) => {
    const result = await prometheus.query(expr);
    return result.length ? result.map((r) => Number(r.value[1])) : undefined;
  };

  test('a router that has not decided yet exports its decision series at 0: Decisions/s reads 0 and Decision p99 has a sample', async () => {
    // WHEN the router is scraped before any request
    const series = await prometheus.eventually(async () => {
      const result = await prometheus.query(`router_decisions_total{pod="router-1"}`);
      return result.length ? result : undefined;
    });
    // THEN every target of its rule's strategy is there, at 0
    expect(series.map((s) => [s.metric.strategy, s.metric.target, s.value[1]]).sort()).toEqual([['redisLookup', 'app-a', '0'], ['redisLookup', 'app-b', '0']]);
    // AND the panels have data: 0 decisions/s, and a p99 sample (NaN: the panel maps it to "no decisions")
    const [decisionsPerSecond] = panelQueries('platform/nginx-router.json', 'Decisions/s');
    expect(await prometheus.eventually(() => sample(decisionsPerSecond))).toEqual([0]);
    const [p99] = panelQueries('platform/nginx-router.json', 'Decision p99');
    expect(await prometheus.eventually(() => sample(p99))).toEqual([NaN]);
  }, 30_000);

  test('every decision failing (redis_unavailable): the Decision errors panel and the recording rule read 100%, RouterDecisionErrorsHigh is pending', async () => {
    // WHEN requests arrive, each failing on Redis
    for (let i = 0; i < 20; i++) {
      const reply = await get(router.port, '/route', { 'x-original-uri': '/', 'x-tenant': `t${i}` });
      expect(reply.headers['x-route-error']).toBe('redis_unavailable');
    }
    // THEN the panel reads 1 (100%) once two scrapes have seen them
    const [errors] = panelQueries('platform/nginx-router.json', 'Decision errors');
    await prometheus.eventually(async () => ((await sample(errors))?.[0] === 1 ? true : undefined));
    // AND the shipped recording rule does too (once evaluated on them), and the alert waits out its `for`
    const rule = `namespace:router_decision_errors:ratio_rate5m{namespace="${NAMESPACE}"}`;
    await prometheus.eventually(async () => ((await sample(rule))?.[0] === 1 ? true : undefined));
    const alert = await prometheus.eventually(async () => (await prometheus.api('/api/v1/alerts')).alerts.find((a: Json) => a.labels.alertname === 'RouterDecisionErrorsHigh'));
    expect(alert).toMatchObject({ state: 'pending', labels: { namespace: NAMESPACE, severity: 'critical' } });
  }, 30_000);

  test("the Go runtime dashboard's GC pause max reads the quantile client_golang writes as \"1\" (3.x stores it as \"1.0\")", async () => {
    const [max, median] = panelQueries('platform/go-runtime.json', 'GC pause');
    expect(await prometheus.eventually(() => sample(max))).toEqual([0.000512]);
    expect(await prometheus.eventually(() => sample(median))).toEqual([0.000042]);
  }, 30_000);

  test('a node whose kubelet is down is reported by its name, not the API server address all nodes are scraped through', async () => {
    const up = await prometheus.eventually(async () => {
      const result = await prometheus.query('up{job="kubernetes-nodes"}');
      return result.length ? result : undefined;
    });
    expect(up.map((s) => [s.metric.instance, s.value[1]])).toEqual([['node-a', '0']]);
    // AND TargetDown (pending for its 5 minutes) names the node
    const alert = await prometheus.eventually(async () => (await prometheus.api('/api/v1/alerts')).alerts.find((a: Json) => a.labels.alertname === 'TargetDown' && a.labels.job === 'kubernetes-nodes'));
    expect(alert.labels.instance).toBe('node-a');
    expect(alert.annotations.summary).toBe('Scrape target node-a of job kubernetes-nodes is down');
  }, 30_000);
});
