import * as fs from 'fs';
import * as path from 'path';
import { parser } from '@prometheus-io/lezer-promql';
import { ApiObject } from 'cdk8s';
import { EnvironmentChart, Grafana, GrafanaProps, KUBECTL_LAST_APPLIED_LIMIT_BYTES, lastAppliedAnnotationBytes, PlatformApp, platformDashboardsDir } from '../lib';
import { forgetPromqlVerdicts, promqlParseCacheKey, recordPromqlParses, substituteGrafanaVariables } from '../lib/grafana/promql';
import { configMapFile, K8sObject, prometheusStandIn, synthWith, thrownMessage } from './support/synth';
import { tempDir } from './support/engines';

const FIXTURES = path.join(__dirname, 'grafana', 'fixtures');
const LOKI = { name: 'Loki', uid: 'loki', type: 'loki', url: 'http://loki:3100' };

function synthDashboards(dir: string, props: Partial<GrafanaProps> = {}): K8sObject[] {
  return synthWith((chart) => {
    new Grafana(chart, 'grafana', {
      prometheus: prometheusStandIn(chart),
      adminUser: { name: 'test-grafana-admin', key: 'admin-user' },
      adminPassword: { name: 'test-grafana-admin', key: 'admin-password' },
      dashboardsDirs: [dir],
      ...props,
    });
  });
}

/** The message synth fails with for a fixture folder. */
function problemsOf(fixture: string, props: Partial<GrafanaProps> = {}): string {
  return thrownMessage(() => synthDashboards(path.join(FIXTURES, fixture), props));
}

const header = (fixture: string, count: number) =>
  `Grafana 'test/grafana': ${count === 1 ? '1 dashboard problem' : `${count} dashboard problems`} in dashboardsDirs ${path.join(FIXTURES, fixture)} (Grafana would skip or break these at run time):\n`;

describe('dashboard checks at synth', () => {
  test('a folder of valid dashboards synthesizes: variables of every form, rows, mixed and variable datasources', () => {
    // GIVEN dashboards as exported by the UI, one "for sharing externally"
    // WHEN
    const objects = synthDashboards(path.join(FIXTURES, 'good'), { additionalDatasources: [LOKI] });
    // THEN both are provisioned
    expect(JSON.parse(configMapFile(objects, 'test-grafana-dashboard-overview', 'overview.json')).title).toBe('Overview');
    expect(JSON.parse(configMapFile(objects, 'test-grafana-dashboard-team-a-service', 'service.json')).title).toBe('Service');
  });

  test('fails when a file is not valid JSON, naming the line and column', () => {
    expect(problemsOf('invalid-json')).toBe(`${header('invalid-json', 1)}  - broken.json: is not valid JSON: Expected double-quoted property name in JSON at position 42 (line 4 column 1)`);
  });

  test('fails when a file holds no dashboard object', () => {
    expect(problemsOf('not-a-dashboard')).toBe(`${header('not-a-dashboard', 1)}  - list.json: must hold a dashboard JSON model (an object), got an array`);
  });

  test('fails when title and uid are missing', () => {
    expect(problemsOf('missing-title-and-uid')).toBe(header('missing-title-and-uid', 2) + [
      '  - untitled.json: title must be a non-empty string, got undefined',
      '  - untitled.json: uid must be set: without one Grafana makes up a new uid, and links and bookmarks break',
    ].join('\n'));
  });

  test('fails when a uid is over 40 characters or has characters Grafana refuses', () => {
    expect(problemsOf('bad-uid')).toBe(header('bad-uid', 2) + [
      `  - long-uid.json: uid must be 1 to 40 letters, digits, '-' or '_', got "this-uid-is-far-too-long-for-grafana-4141"`,
      `  - uid-with-spaces.json: uid must be 1 to 40 letters, digits, '-' or '_', got "has spaces"`,
    ].join('\n'));
  });

  test('fails when two files share a uid', () => {
    expect(problemsOf('duplicate-uid')).toBe(`${header('duplicate-uid', 1)}  - second.json: uid must be unique, 'same' is also the uid of first.json`);
  });

  test('fails when two dashboards of one folder share a title (the same title in another folder is fine)', () => {
    expect(problemsOf('duplicate-title')).toBe(`${header('duplicate-title', 1)}  - team/two.json: title must be unique within its folder, 'Same title' is also the title of team/one.json`);
  });

  test('fails when a ${DS_...} placeholder has no __inputs to resolve it', () => {
    expect(problemsOf('unresolved-placeholder')).toBe(
      `${header('unresolved-placeholder', 1)}  - no-inputs.json: \${DS_PROMETHEUS} must be declared in __inputs (as "Export for sharing externally" writes it) or replaced by a provisioned datasource uid ('prometheus')`,
    );
  });

  test('finds placeholders written with JSON escapes too (\\u0024{DS_...}), resolving the declared and reporting the rest', () => {
    // GIVEN a dashboard whose placeholders are escaped in the file: the text "${DS_" appears nowhere in it
    const dir = tempDir('grafana-escaped-placeholders');
    const panel = (id: number, uid: string) => ({ datasource: { type: 'prometheus', uid }, id, targets: [{ expr: 'up', refId: 'A' }], title: `Up ${id}`, type: 'timeseries' });
    const dashboard = { __inputs: [{ name: 'DS_PROM', type: 'datasource', pluginId: 'prometheus' }], title: 'Escaped', uid: 'escaped', panels: [panel(1, '${DS_PROM}'), panel(2, '${DS_OTHER}')] };
    const text = JSON.stringify(dashboard, null, 2).replace(/\$\{/g, '\\u0024{');
    expect(text).not.toContain('${DS_');
    fs.writeFileSync(path.join(dir, 'escaped.json'), text);
    // WHEN / THEN the undeclared one is reported
    expect(thrownMessage(() => synthDashboards(dir))).toContain("escaped.json: ${DS_OTHER} must be declared in __inputs");
    // and, once it is gone, the declared one resolves to the provisioned datasource's uid
    fs.writeFileSync(path.join(dir, 'escaped.json'), text.replace('\\u0024{DS_OTHER}', '\\u0024{DS_PROM}'));
    const provisioned = JSON.parse(configMapFile(synthDashboards(dir), 'test-grafana-dashboard-escaped', 'escaped.json'));
    expect(provisioned.panels.map((p: { datasource: { uid: string } }) => p.datasource.uid)).toEqual(['prometheus', 'prometheus']);
  });

  test('fails when __inputs ask for a datasource type not provisioned, or for a constant', () => {
    expect(problemsOf('unanswerable-inputs')).toBe(header('unanswerable-inputs', 2) + [
      "  - loki-and-constant.json: __inputs 'DS_LOKI' needs a datasource of type 'loki', but none is provisioned (provisioned types: prometheus)",
      "  - loki-and-constant.json: __inputs 'VAR_CLUSTER' (constant) cannot be answered at provisioning: replace ${VAR_CLUSTER} in the file with its value",
    ].join('\n'));
  });

  test('fails when a PromQL expression does not parse, naming each panel, target, variable and annotation', () => {
    expect(problemsOf('bad-promql')).toBe(header('bad-promql', 4) + [
      "  - broken-queries.json: variable 'pod': query is not valid PromQL: syntax error at character 38, near '}': label_values(kube_pod_info{namespace=}, pod)",
      "  - broken-queries.json: annotation 'Restarts': expr is not valid PromQL: it ends too early (an unclosed bracket, or a missing operand?): changes(process_start_time_seconds[5m] > 0",
      "  - broken-queries.json: panel 'Requests' (id 12), target B: expr is not valid PromQL: it ends too early (an unclosed bracket, or a missing operand?): sum(rate(http_requests_total{job=\"api\"}[$__rate_interval])",
      "  - broken-queries.json: panel 'Errors' (id 13), target A: expr is not valid PromQL: syntax error at character 29, near 'bogus': rate(http_errors_total[5m]) bogus",
    ].join('\n'));
  });

  test('fails when a panel points at a datasource that is not provisioned', () => {
    expect(problemsOf('unknown-datasource')).toBe(header('unknown-datasource', 2) + [
      "  - foreign-uid.json: panel 'From another Grafana' (id 1): datasource uid must be one of the provisioned 'prometheus', a datasource variable or a built-in, got 'P1809F7CD0C75ACF3'",
      "  - foreign-uid.json: panel 'Through a missing variable' (id 2): datasource '$ds' must name a datasource variable of this dashboard, there is none called 'ds'",
    ].join('\n'));
    // The valid folder needs its Loki too.
    expect(problemsOf('good')).toContain("overview.json: panel 'Mixed: Prometheus and Loki (LogQL is not parsed as PromQL)' (id 3), target B: datasource uid must be one of the provisioned 'prometheus', a datasource variable or a built-in, got 'loki'");
  });

  test('fails when a panel is a library panel', () => {
    expect(problemsOf('library-panel')).toBe(
      `${header('library-panel', 1)}  - with-library-panel.json: panel 'Shared CPU' (id 1): is library panel 'Shared CPU', which provisioning cannot create: unlink it in Grafana (panel menu > More > Unlink library panel) and export again`,
    );
  });

  test('fails when dashboards are nested more than one folder deep', () => {
    expect(problemsOf('too-deep')).toBe(`${header('too-deep', 1)}  - a/b/deep.json: dashboards must be at most one folder deep (dashboards/<folder>/<file>.json): each subfolder becomes one Grafana folder`);
  });

  test('fails when folder or file names cannot name Kubernetes objects, or two files would share a ConfigMap', () => {
    expect(problemsOf('bad-names')).toBe(header('bad-names', 2) + [
      "  - Team_A/dash.json: folder name must be a DNS label of at most 32 characters (lower-case letters, digits and '-'), got 'Team_A'",
      "  - bad@name.json: file name must be letters, digits, '.', '-' and '_' (it becomes a ConfigMap key), got 'bad@name.json'",
    ].join('\n'));
    expect(problemsOf('name-clash')).toBe(`${header('name-clash', 1)}  - a_b.json: file name must give a ConfigMap name distinct from a-b.json's, both give 'a-b'`);
  });

  describe('size: what client-side kubectl apply accepts', () => {
    let dir: string;
    beforeEach(() => (dir = tempDir('grafana-big-dashboard')));
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
    const writeDashboard = (padding: number) => fs.writeFileSync(path.join(dir, 'big.json'), JSON.stringify({ title: 'Big', uid: 'big', description: 'x'.repeat(padding), panels: [] }));
    const bytesReported = (): number | undefined => {
      try {
        synthDashboards(dir);
        return undefined;
      } catch (error) {
        return Number(/would put (\d+) bytes/.exec((error as Error).message)![1]);
      }
    };

    test('fails when a dashboard ConfigMap is over the last-applied annotation limit, saying what to do', () => {
      // GIVEN a dashboard of 300 kB
      writeDashboard(300_000);
      // WHEN / THEN
      expect(() => synthDashboards(dir)).toThrow(new RegExp([
        '^Validation failed with the following errors:',
        `  \\[test\\] Grafana 'test/grafana': 1 dashboard problem in dashboardsDirs ${dir} .*:`,
        "  - big.json: its ConfigMap test-grafana-dashboard-big would put 3\\d{5} bytes in kubectl's last-applied-configuration annotation, over the 262144-byte limit of client-side 'kubectl apply': " +
          "split the dashboard into smaller ones, or apply server-side \\('kubectl apply --server-side', Argo CD 'ServerSideApply=true'\\)$",
      ].join('\n')));
    });

    test('counts the annotation bytes as kubectl writes them', () => {
      // GIVEN a ConfigMap with what Go's JSON encoder escapes (<, >, &, U+2028) and a multi-byte character
      const configMap = {
        apiVersion: 'v1', kind: 'ConfigMap',
        metadata: { name: 'dev-grafana-dashboard-x', namespace: 'platform-dev', labels: { 'app.kubernetes.io/name': 'grafana' } },
        data: { 'small.json': '{\n  "expr": "rate(x[5m]) > 0 & y < 1",\n  "title": "Caf\u00e9 \u2028"\n}' },
        immutable: false,
      };
      // WHEN / THEN the totals kubectl 1.32 gives (`kubectl create --dry-run=client --save-config -o json`)
      expect(lastAppliedAnnotationBytes(configMap)).toBe(358);
      expect(lastAppliedAnnotationBytes({ ...configMap, metadata: { ...configMap.metadata, annotations: { note: 'a < b' } } })).toBe(386);
    });

    test("PlatformApp.render() runs it on the objects it renders, with the plain App's message", () => {
      // GIVEN a dashboard of 300 kB, in a PlatformApp's chart and in a plain App's
      writeDashboard(300_000);
      const app = new PlatformApp({ outdir: path.join(dir, 'never-written') });
      const chart = new EnvironmentChart(app, 'test', { environment: { name: 'test' } });
      new Grafana(chart, 'grafana', {
        prometheus: prometheusStandIn(chart),
        adminUser: { name: 'test-grafana-admin', key: 'admin-user' },
        adminPassword: { name: 'test-grafana-admin', key: 'admin-password' },
        dashboardsDirs: [dir],
      });
      // WHEN each renders THEN both fail with the same message
      expect(thrownMessage(() => app.render())).toBe(thrownMessage(() => synthDashboards(dir)));
      expect(thrownMessage(() => app.render())).toMatch(/\n {2}- big\.json: its ConfigMap test-grafana-dashboard-big would put 3\d{5} bytes/);
    });

    test('the ConfigMap is measured as written: a label added after Grafana is made counts', () => {
      // GIVEN a dashboard whose ConfigMap is exactly at the limit
      writeDashboard(300_000);
      writeDashboard(300_000 - (bytesReported()! - KUBECTL_LAST_APPLIED_LIMIT_BYTES));
      expect(bytesReported()).toBeUndefined();
      // WHEN a label is added to its ConfigMap once Grafana is made THEN the synth fails by that label's bytes ("team":"a", and a comma)
      const labelled = thrownMessage(() => synthWith((chart) => {
        const grafana = new Grafana(chart, 'grafana', {
          prometheus: prometheusStandIn(chart),
          adminUser: { name: 'test-grafana-admin', key: 'admin-user' },
          adminPassword: { name: 'test-grafana-admin', key: 'admin-password' },
          dashboardsDirs: [dir],
        });
        ApiObject.of(grafana.node.findChild('dashboards').node.findChild('big')).metadata.addLabel('team', 'a');
      }));
      expect(labelled).toContain(`would put ${KUBECTL_LAST_APPLIED_LIMIT_BYTES + '"team":"a",'.length} bytes`);
    });

    test('the limit is exact: at the limit passes, one byte over fails', () => {
      // GIVEN the padding that puts the ConfigMap exactly at the limit
      writeDashboard(300_000);
      const padding = 300_000 - (bytesReported()! - KUBECTL_LAST_APPLIED_LIMIT_BYTES);
      // WHEN / THEN
      writeDashboard(padding);
      expect(bytesReported()).toBeUndefined();
      writeDashboard(padding + 1);
      expect(bytesReported()).toBe(KUBECTL_LAST_APPLIED_LIMIT_BYTES + 1);
    });
  });
});

describe('the PromQL parse record', () => {
  const good = 'sum(rate(parse_cache_probe_total{pod=~"$pod"}[$__rate_interval]))';
  const broken = 'sum(rate(parse_cache_probe_total[5m])) bogus';
  const keyOf = (expr: string) => promqlParseCacheKey(substituteGrafanaVariables(expr).text);

  /** Checks a dashboard holding `exprs` (as targets A, B, ...), in a folder of its own. */
  function checkProbe(exprs: readonly string[], title = 'Probe'): void {
    const dir = tempDir('grafana-parse-record');
    try {
      const targets = exprs.map((expr, i) => ({ refId: String.fromCharCode(65 + i), expr }));
      fs.writeFileSync(path.join(dir, 'probe.json'), JSON.stringify({ title, uid: 'probe', panels: [{ id: 1, title: 'Probe', targets }] }));
      synthDashboards(dir);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  afterEach(() => {
    recordPromqlParses(undefined);
    forgetPromqlVerdicts();
  });

  test('gets the expressions that parsed, never the ones that did not', () => {
    // GIVEN a record asked for, and a dashboard with one good and one broken expression
    const record = new Set<string>();
    recordPromqlParses(record);
    forgetPromqlVerdicts();
    // WHEN it is checked (and fails)
    expect(() => checkProbe([good, broken])).toThrow("probe.json: panel 'Probe' (id 1), target B: expr is not valid PromQL");
    // THEN the record vouches for the good expression only
    expect([...record]).toEqual([keyOf(good)]);
  });

  test('an expression the record vouches for is not parsed again; one it does not is', () => {
    // GIVEN a record that vouches for the broken expression (as a record of another parser version might)
    recordPromqlParses(new Set([keyOf(broken)]));
    forgetPromqlVerdicts();
    // WHEN a dashboard holding it is checked THEN the record is believed
    expect(() => checkProbe([broken])).not.toThrow();
    // AND without the record the parser finds the error (in another dashboard: checked dashboards are kept by their text)
    recordPromqlParses(undefined);
    forgetPromqlVerdicts();
    expect(() => checkProbe([broken], 'Probe again')).toThrow('target A: expr is not valid PromQL');
  });

  test('writes nothing unless asked', () => {
    // GIVEN no record asked for, and no file where 0.1.0 kept one (the consumer's node_modules/.cache)
    recordPromqlParses(undefined);
    forgetPromqlVerdicts();
    const oldPlace = path.join(__dirname, '..', 'node_modules', '.cache', 'cdk8s-platform-stack');
    fs.rmSync(oldPlace, { recursive: true, force: true });
    // WHEN dashboards are checked
    synthDashboards(platformDashboardsDir());
    // THEN no cache file was written
    expect(fs.existsSync(oldPlace)).toBe(false);
  });
});

describe('Grafana variables in PromQL', () => {
  test.each([
    ['rate(x{pod=~"$pod"}[$__rate_interval])', 'rate(x{pod=~"$pod"}[5m])'],
    ['increase(x[${__range_s}s])', 'increase(x[5s])'],
    ['rate(x[1h:$__interval]) offset $shift', 'rate(x[1h:5m]) offset 5m'],
    ['topk($n, sum by ($label) ($metric{a="${b:regex}"}))', 'topk(grafana_var, sum by (grafana_var) (grafana_var{a="${b:regex}"}))'],
    ['[[metric]]{instance="[[instance]]"} * $__interval_ms', 'grafana_var{instance="[[instance]]"} * 1'],
    ["x{a='$b\\''}", "x{a='$b\\''}"],
  ])('%s is checked as %s', (expr, substituted) => {
    expect(substituteGrafanaVariables(expr).text).toBe(substituted);
  });

  test('every character of the checked text points back where it came from (errors are reported at that place)', () => {
    // GIVEN 5,000 expressions made of the pieces the substitution treats apart (a fixed sequence)
    const pieces = ['$', '[', ']', '[[', ']]', '"', "'", '`', '\\', 'ab', 'offset ', ' ', '${x}', '${__range_s}', '$__interval_ms', 's', '{', '}', ':', '5m', '$1'];
    let seed = 1;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    const wrong: string[] = [];
    for (let n = 0; n < 5000; n++) {
      let expr = '';
      for (let k = next() % 12; k > 0; k--) expr += pieces[next() % pieces.length];
      // WHEN
      const { text, originOf } = substituteGrafanaVariables(expr);
      // THEN positions never go back; a copied character comes from the same character, a placeholder's from its variable's '$' or '['
      for (let j = 0; j < text.length; j++) {
        const from = originOf(j);
        const fits = expr[from] === text[j] || expr[from] === '$' || expr[from] === '[';
        if (!fits || (j > 0 && from < originOf(j - 1))) wrong.push(`${JSON.stringify(expr)} -> ${JSON.stringify(text)}: character ${j} from ${from}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});

// The names the router, the exporters, cAdvisor, kube-state-metrics and Go services emit (contract.md).
const KNOWN_METRICS = new Set([
  'router_decisions_total', 'router_decision_errors_total', 'router_refusals_total',
  'router_decision_duration_seconds_bucket', 'router_decision_duration_seconds_sum', 'router_decision_duration_seconds_count',
  'nginx_up', 'nginx_connections_active', 'nginx_connections_accepted', 'nginx_connections_handled',
  'nginx_connections_reading', 'nginx_connections_writing', 'nginx_connections_waiting', 'nginx_http_requests_total',
  'redis_up', 'redis_commands_processed_total', 'redis_connected_clients', 'redis_memory_used_bytes', 'redis_memory_max_bytes',
  'redis_rdb_last_bgsave_status', 'redis_aof_last_write_status', 'redis_rdb_last_save_timestamp_seconds',
  'redis_rdb_changes_since_last_save', 'redis_aof_enabled',
  'container_cpu_usage_seconds_total', 'container_memory_working_set_bytes', 'container_network_receive_bytes_total',
  'container_network_transmit_bytes_total', 'container_spec_cpu_quota', 'kube_pod_container_resource_limits',
  'go_goroutines', 'go_memstats_heap_alloc_bytes', 'go_memstats_heap_inuse_bytes',
  'go_gc_duration_seconds', 'go_gc_duration_seconds_sum', 'go_gc_duration_seconds_count',
  'node_cpu_seconds_total', 'node_memory_MemAvailable_bytes', 'node_memory_MemTotal_bytes', 'node_filesystem_avail_bytes', 'node_filesystem_size_bytes',
  'node_network_receive_bytes_total', 'node_network_transmit_bytes_total',
  'alertmanager_alerts', 'alertmanager_alerts_received_total', 'alertmanager_notifications_total', 'alertmanager_notifications_failed_total',
]);

describe('shipped dashboards', () => {
  const dir = platformDashboardsDir();
  const files = ['kubernetes/nodes.json', 'kubernetes/pods.json', 'platform/alertmanager.json', 'platform/go-runtime.json', 'platform/nginx-router.json', 'platform/redis.json'];
  type Panel = { title: string; type: string; targets?: { expr: string }[]; panels?: Panel[] };
  const model = (file: string) => JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
  const panels = (file: string): Panel[] => (model(file).panels as Panel[]).flatMap((p) => [p, ...(p.panels ?? [])]);
  const exprs = (file: string): string[] => [
    ...panels(file).flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
    ...model(file).templating.list.map((v: { query: { query: string } }) => v.query.query),
  ];
  const metricNames = (expr: string): string[] => {
    const text = substituteGrafanaVariables(expr).text.replace(/^label_values\((.*),\s*\w+\)$/, '$1');
    const names: string[] = [];
    parser.parse(text).iterate({ enter: (n) => { if (n.name === 'Identifier' && n.node.parent?.name === 'VectorSelector') names.push(text.slice(n.from, n.to)); } });
    return names;
  };

  test('are the six dashboards, in two Grafana folders, all passing the synth checks', () => {
    // GIVEN / WHEN
    const objects = synthDashboards(dir);
    // THEN
    expect(files.map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')).uid)).toEqual(['k8s-nodes', 'k8s-pods', 'alertmanager', 'go-runtime', 'nginx-router', 'redis']);
    for (const o of objects.filter((x) => x.metadata.name.startsWith('test-grafana-dashboard-platform-') || x.metadata.name.startsWith('test-grafana-dashboard-kubernetes-'))) {
      const json = Object.values(o.data as Record<string, string>)[0];
      expect(json).not.toContain('${DS_');
      expect(JSON.parse(json).__inputs).toBeUndefined();
    }
  });

  test.each(files)('%s queries only metrics the stack emits', (file) => {
    const unknown = exprs(file).flatMap(metricNames).filter((name) => !KNOWN_METRICS.has(name));
    expect(unknown).toEqual([]);
  });

  test('Kubernetes pods: CPU (the seed query, per pod), memory and network per pod', () => {
    expect(panels('kubernetes/pods.json').map((p) => p.title)).toEqual([
      'CPU', 'CPU usage per pod', 'CPU usage / limit per pod',
      'Memory', 'Memory working set per pod', 'Memory working set / limit per pod',
      'Network', 'Network received per pod', 'Network transmitted per pod',
    ]);
    expect(exprs('kubernetes/pods.json')).toContain('sum by (pod) (rate(container_cpu_usage_seconds_total{namespace="$namespace", pod=~"$pod", container!="", container!="POD"}[$__rate_interval]))');
  });

  test('NGINX router: decisions per target, latency p50/p99, refusals and errors; NGINX connections and requests', () => {
    const all = exprs('platform/nginx-router.json').join('\n');
    expect(all).toContain('sum by (target) (rate(router_decisions_total{namespace="$namespace"}[$__rate_interval]))');
    expect(all).toContain('histogram_quantile(0.5, sum by (le) (rate(router_decision_duration_seconds_bucket');
    expect(all).toContain('histogram_quantile(0.99, sum by (le) (rate(router_decision_duration_seconds_bucket');
    for (const metric of ['router_refusals_total', 'router_decision_errors_total', 'nginx_http_requests_total', 'nginx_connections_active', 'nginx_connections_waiting', 'nginx_up']) expect(all).toContain(metric);
  });

  test('Redis: ops/s, memory, clients, and persistence health', () => {
    const all = exprs('platform/redis.json').join('\n');
    for (const metric of ['redis_commands_processed_total', 'redis_memory_used_bytes', 'redis_connected_clients', 'redis_rdb_last_bgsave_status', 'redis_aof_last_write_status']) expect(all).toContain(metric);
    expect(all).toContain('time() - redis_rdb_last_save_timestamp_seconds');
    // Exported "for sharing externally": the placeholder is in the file, resolved at synth.
    expect(fs.readFileSync(path.join(dir, 'platform/redis.json'), 'utf8')).toContain('"uid": "${DS_PROMETHEUS}"');
  });

  test('Kubernetes nodes (node-exporter): CPU busy, memory and filesystem space available, network, per node', () => {
    expect(panels('kubernetes/nodes.json').map((p) => p.title)).toEqual([
      'CPU and memory', 'CPU busy per node', 'Memory available per node', 'Disks and network', 'Filesystem space available', 'Network received / transmitted per node',
    ]);
    expect(exprs('kubernetes/nodes.json')).toContain('1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle", instance=~"$instance"}[$__rate_interval]))');
  });

  test('Alertmanager: alerts held and received, notifications sent and failed per integration', () => {
    const all = exprs('platform/alertmanager.json').join('\n');
    for (const metric of ['alertmanager_alerts{', 'alertmanager_alerts_received_total', 'sum by (integration) (rate(alertmanager_notifications_total', 'sum by (integration) (rate(alertmanager_notifications_failed_total']) expect(all).toContain(metric);
  });

  test('Go runtime: goroutines, heap, GC pauses', () => {
    const all = exprs('platform/go-runtime.json').join('\n');
    for (const metric of ['go_goroutines', 'go_memstats_heap_alloc_bytes', 'go_memstats_heap_inuse_bytes', 'go_gc_duration_seconds{']) expect(all).toContain(metric);
  });
});
