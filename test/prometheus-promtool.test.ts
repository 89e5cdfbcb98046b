// Engine tests: the exact prometheus.yml and rule files of every environment's synthesized chart,
// checked by promtool and run by a real Prometheus, both built at the image's version with
// Kubernetes discovery (`npm run engines`, scripts/engines/table.js).
//
// promtool checks the synthesized files as they are, kubernetes_sd_configs included; only the
// absolute in-pod paths of the ServiceAccount token and CA point into the temp pod root, where
// placeholders stand in for what Kubernetes mounts (promtool stats credentials files).
// test/cluster.test.ts runs the same config's discovery against a real API server. Here the real
// server also runs the relabeling of the pods and service-endpoints jobs on targets carrying the
// meta labels Kubernetes discovery attaches to Running pods (the local cluster has no kubelet, so
// its pods never run): the only place the config differs is discovery, made file-based.
//
// Our own check kept beside promtool: every `__meta_kubernetes_*` label a relabel rule reads is one
// its role attaches. promtool accepts any label name, and a rule reading a label its role never
// attaches silently drops every target.
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import * as YAML from 'yaml';
import { ENVIRONMENTS } from '../app/environments';
import { enginePath, eventually as poll, freePort, run, startProcess, tempDir, waitForPort } from './support/engines';
import { K8sObject, synthEnvironment } from './support/synth';

const promtool = enginePath('promtool');
const prometheusServer = enginePath('prometheus');
const UNIT_TESTS_DIR = path.join(__dirname, 'prometheus');
const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** The Prometheus pod of a synthesized chart, its files laid out under `root` as Kubernetes would mount them. */
interface Pod {
  readonly deployment: K8sObject;
  readonly args: string[];
  /** Host path of --config.file. */
  readonly configFile: string;
  /** Host paths of the rule files (every ConfigMap key but the config). */
  readonly ruleFiles: string[];
}

function layOutPod(objects: K8sObject[], root: string): Pod {
  const deployment = objects.find((o) => o.kind === 'Deployment' && o.spec.template.spec.containers.some((c: Json) => c.name === 'prometheus'));
  if (!deployment) throw new Error('no Prometheus Deployment in the chart');
  const podSpec = deployment.spec.template.spec;
  const container = podSpec.containers.find((c: Json) => c.name === 'prometheus');
  const files: string[] = [];
  for (const mount of container.volumeMounts) {
    const volume = podSpec.volumes.find((v: Json) => v.name === mount.name);
    if (!volume.configMap) continue;
    const configMap = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === volume.configMap.name);
    for (const [key, content] of Object.entries<string>(configMap!.data)) {
      const file = path.join(root, mount.mountPath, key);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, content);
      files.push(file);
    }
  }
  // What Kubernetes mounts because the pod asks for its token (promtool only stats these).
  if (podSpec.automountServiceAccountToken) {
    fs.mkdirSync(path.join(root, SERVICE_ACCOUNT_DIR), { recursive: true });
    for (const name of ['token', 'ca.crt', 'namespace']) fs.writeFileSync(path.join(root, SERVICE_ACCOUNT_DIR, name), 'placeholder\n');
  }
  const args: string[] = container.args;
  const configArg = args.find((a) => a.startsWith('--config.file='))!;
  const configFile = path.join(root, configArg.slice('--config.file='.length));
  return { deployment, args, configFile, ruleFiles: files.filter((f) => f !== configFile) };
}

/** The exact config, its in-pod absolute paths (token, CA) moved under `root`. */
function inPodPaths(configText: string, root: string): Json {
  const config = YAML.parse(configText);
  for (const job of config.scrape_configs) {
    if (job.authorization?.credentials_file) job.authorization.credentials_file = path.join(root, job.authorization.credentials_file);
    if (job.tls_config?.ca_file) job.tls_config.ca_file = path.join(root, job.tls_config.ca_file);
  }
  return config;
}

/** The config with each kubernetes_sd_configs list made a file_sd_configs list (targets from `targets`, else none). */
function withFileDiscovery(config: Json, root: string, targets: Record<string, Json[]>): Json {
  fs.mkdirSync(path.join(root, 'sd'), { recursive: true });
  for (const job of config.scrape_configs) {
    if (!job.kubernetes_sd_configs) continue;
    const file = path.join(root, 'sd', `${job.job_name}.json`);
    fs.writeFileSync(file, JSON.stringify(targets[job.job_name] ?? []));
    delete job.kubernetes_sd_configs;
    job.file_sd_configs = [{ files: [file] }];
  }
  return config;
}

/** The meta labels each discovery role attaches (prometheus.io/docs, kubernetes_sd_config). */
const OBJECT_META = '(label|labelpresent|annotation|annotationpresent)_[a-zA-Z0-9_]+';
const POD_META = `pod_(name|ip|${OBJECT_META}|container_(init|name|id|image|port_name|port_number|port_protocol)|ready|phase|node_name|host_ip|uid|controller_kind|controller_name)`;
const SERVICE_META = `service_(name|${OBJECT_META}|cluster_ip|external_name|port_name|port_number|port_protocol|type)`;
const ROLE_META: Record<string, RegExp> = {
  node: new RegExp(`^__meta_kubernetes_node_(name|provider_id|${OBJECT_META}|address_[A-Za-z]+)$`),
  pod: new RegExp(`^__meta_kubernetes_(namespace|${POD_META})$`),
  service: new RegExp(`^__meta_kubernetes_(namespace|${SERVICE_META})$`),
  endpointslice: new RegExp(`^__meta_kubernetes_(namespace|${SERVICE_META}|${POD_META}|endpointslice_(name|${OBJECT_META}|address_target_kind|address_target_name|address_type|endpoint_conditions_(ready|serving|terminating)|endpoint_topology_(present_)?[a-zA-Z0-9_]+|endpoint_hostname|endpoint_node_name|endpoint_zone|port|port_app_protocol|port_name|port_protocol))$`),
};

/** Every `__meta_*` label a job's relabel rules read, labelmap patterns instantiated. */
function metaLabelsRead(job: Json): string[] {
  const labels: string[] = [];
  for (const rule of job.relabel_configs ?? []) {
    labels.push(...(rule.source_labels ?? []).filter((l: string) => l.startsWith('__meta_')));
    if (rule.action === 'labelmap') labels.push(rule.regex.replace('(.+)', 'example'));
  }
  return labels;
}

/** Alert names of rule files, and the alerts each promtool test file fires and keeps quiet. */
function alertCoverage(ruleFiles: string[], testFiles: string[]): { alerts: string[]; fired: Set<string>; quiet: Set<string> } {
  const alerts = ruleFiles.flatMap((f) => YAML.parse(fs.readFileSync(f, 'utf8')).groups.flatMap((g: Json) => g.rules.filter((r: Json) => r.alert).map((r: Json) => r.alert)));
  const fired = new Set<string>();
  const quiet = new Set<string>();
  for (const file of testFiles) {
    for (const test of YAML.parse(fs.readFileSync(file, 'utf8')).tests) {
      for (const check of test.alert_rule_test ?? []) (check.exp_alerts?.length ? fired : quiet).add(check.alertname);
    }
  }
  return { alerts, fired, quiet };
}

describe.each(ENVIRONMENTS.map((e) => e.name))('Prometheus of %s, checked by promtool', (environment) => {
  let root: string;
  let pod: Pod;
  beforeAll(() => {
    root = tempDir(`prometheus-${environment}`);
    pod = layOutPod(synthEnvironment(environment), root);
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  test('promtool check config accepts prometheus.yml and finds every rule file through rule_files', () => {
    // GIVEN the synthesized config, in-pod paths under the pod root (see the header)
    const checked = path.join(path.dirname(pod.configFile), 'prometheus.promtool.yml');
    fs.writeFileSync(checked, YAML.stringify(inPodPaths(fs.readFileSync(pod.configFile, 'utf8'), root)));

    // WHEN promtool checks it (rule_files resolve beside it, where the pod mounts them)
    const output = run(promtool, ['check', 'config', checked]);

    // THEN it is valid, and so is every rule file, all found by the rule_files glob
    expect(output).toContain(`SUCCESS: ${pod.ruleFiles.length} rule files found`);
    expect(output).toContain('is valid prometheus config file syntax');
    for (const file of pod.ruleFiles) expect(output).toContain(`Checking ${file}\n  SUCCESS:`);
    console.log(`[${environment}] promtool check config:\n${output}`);
  });

  test('promtool check rules accepts every rule file', () => {
    // WHEN promtool checks the rule files as mounted
    const output = run(promtool, ['check', 'rules', ...pod.ruleFiles]);

    // THEN each one is valid and has rules
    expect(output.match(/SUCCESS: \d+ rules found/g)).toHaveLength(pod.ruleFiles.length);
    // One group per system of the chart, each brought by its construct (addMonitoring).
    expect(pod.ruleFiles.map((f) => path.basename(f)).sort()).toEqual([
      'alertmanager.rules.yml', 'kube-state-metrics.rules.yml', 'nginx.rules.yml', 'node-exporter.rules.yml', 'platform.rules.yml', 'redis.rules.yml', 'router.rules.yml',
    ]);
  });

  test('promtool test rules fires every shipped alert on synthetic series, and keeps each quiet on others', () => {
    // GIVEN the unit tests beside the rule files they name
    const testFiles = fs.readdirSync(UNIT_TESTS_DIR).filter((f) => f.endsWith('.test.yml')).map((f) => {
      const copy = path.join(path.dirname(pod.configFile), f);
      fs.copyFileSync(path.join(UNIT_TESTS_DIR, f), copy);
      return copy;
    });

    // WHEN promtool runs them against the synthesized rules
    const output = run(promtool, ['test', 'rules', ...testFiles]);

    // THEN all pass, and every alert of the rule files is tested both ways
    expect(output.match(/SUCCESS/g)).toHaveLength(testFiles.length);
    const { alerts, fired, quiet } = alertCoverage(pod.ruleFiles, testFiles);
    expect(alerts.length).toBeGreaterThanOrEqual(18);
    expect(alerts.filter((a) => !fired.has(a))).toEqual([]);
    expect(alerts.filter((a) => !quiet.has(a))).toEqual([]);
  });

  test('relabel rules read only meta labels their discovery role produces', () => {
    // GIVEN the exact config
    const config = YAML.parse(fs.readFileSync(pod.configFile, 'utf8'));
    const problems: string[] = [];
    for (const job of config.scrape_configs) {
      for (const sd of job.kubernetes_sd_configs ?? []) {
        // THEN the role is one this check covers
        if (!ROLE_META[sd.role]) problems.push(`${job.job_name}: role ${sd.role} not covered`);
        // AND no rule reads a label its role never attaches (such a rule silently drops every target)
        for (const label of metaLabelsRead(job)) if (!ROLE_META[sd.role]?.test(label)) problems.push(`${job.job_name}: role ${sd.role} has no ${label}`);
      }
    }
    expect(problems).toEqual([]);
  });
});

describe('Prometheus of dev, run by the real server', () => {
  // GIVEN dev's pod, served by the prometheus binary with the Deployment's own flags, Kubernetes
  // discovery replaced by target files carrying the meta labels Kubernetes would attach, and a
  // metrics endpoint of a "pod" on 127.0.0.1, and of an IPv6 "pod" on [::1] (same port)
  let root: string;
  let server: ReturnType<typeof startProcess>;
  let app: http.Server;
  let app6: http.Server;
  let apiPort: number;
  let appPort: number;

  beforeAll(async () => {
    root = tempDir('prometheus-server');
    const pod = layOutPod(synthEnvironment('dev'), root);
    appPort = await freePort();
    const metrics = (req: http.IncomingMessage, res: http.ServerResponse) => {
      res.writeHead(req.url === '/custom-metrics' ? 200 : 404, { 'Content-Type': 'text/plain; version=0.0.4' });
      res.end(req.url === '/custom-metrics' ? 'demo_requests_total 7\n' : 'not found\n');
    };
    app = http.createServer(metrics);
    await new Promise<void>((resolve) => app.listen(appPort, '127.0.0.1', resolve));
    app6 = http.createServer(metrics);
    await new Promise<void>((resolve) => app6.listen(appPort, '::1', resolve));

    const podMeta = (name: string, phase: string, annotated: boolean, ip = '127.0.0.1') => ({
      __meta_kubernetes_namespace: 'platform-dev',
      __meta_kubernetes_pod_name: name,
      __meta_kubernetes_pod_ip: ip,
      __meta_kubernetes_pod_phase: phase,
      __meta_kubernetes_pod_node_name: 'node-1',
      __meta_kubernetes_pod_label_app_kubernetes_io_name: 'api',
      ...(annotated ? {
        __meta_kubernetes_pod_annotation_prometheus_io_scrape: 'true',
        __meta_kubernetes_pod_annotation_prometheus_io_port: String(appPort),
        __meta_kubernetes_pod_annotation_prometheus_io_path: '/custom-metrics',
      } : {}),
    });
    const targets = {
      'kubernetes-pods': [
        // One target per container port, as pod discovery makes them: the metrics port and pprof.
        { targets: ['127.0.0.1:8080'], labels: podMeta('api-1', 'Running', true) },
        { targets: ['127.0.0.1:6060'], labels: podMeta('api-1', 'Running', true) },
        { targets: ['127.0.0.1:8080'], labels: podMeta('api-2', 'Pending', true) },
        { targets: ['127.0.0.1:8080'], labels: podMeta('other-1', 'Running', false) },
        // An IPv6 pod: discovery gives the bare address (::1 written out, as the relabel's IPv6
        // pattern needs a group before '::', which every pod IP has, e.g. fd00:10:244::5).
        { targets: ['[0:0:0:0:0:0:0:1]:8080'], labels: podMeta('api-v6', 'Running', true, '0:0:0:0:0:0:0:1') },
      ],
      'kubernetes-service-endpoints': [
        {
          targets: ['127.0.0.1:8080'],
          labels: {
            __meta_kubernetes_namespace: 'platform-dev',
            __meta_kubernetes_service_name: 'api',
            __meta_kubernetes_service_label_app: 'api',
            __meta_kubernetes_endpointslice_address_target_name: 'api-1',
            __meta_kubernetes_service_annotation_prometheus_io_scrape: 'true',
            __meta_kubernetes_service_annotation_prometheus_io_port: String(appPort),
            __meta_kubernetes_service_annotation_prometheus_io_path: '/custom-metrics',
          },
        },
        { targets: ['127.0.0.1:8080'], labels: { __meta_kubernetes_namespace: 'platform-dev', __meta_kubernetes_service_name: 'unannotated' } },
        // An IPv6 endpoint: EndpointSlice discovery gives it bracketed, with its port.
        {
          targets: ['[::1]:8080'],
          labels: {
            __meta_kubernetes_namespace: 'platform-dev',
            __meta_kubernetes_service_name: 'api-v6',
            __meta_kubernetes_endpointslice_address_target_name: 'api-v6-1',
            __meta_kubernetes_service_annotation_prometheus_io_scrape: 'true',
            __meta_kubernetes_service_annotation_prometheus_io_port: String(appPort),
            __meta_kubernetes_service_annotation_prometheus_io_path: '/custom-metrics',
          },
        },
      ],
    };
    const config = withFileDiscovery(inPodPaths(fs.readFileSync(pod.configFile, 'utf8'), root), root, targets);
    // Scrape every second so the test takes seconds (only the pace differs from dev's config).
    config.global.scrape_interval = '1s';
    config.global.scrape_timeout = '1s';
    const configFile = path.join(path.dirname(pod.configFile), 'prometheus.server.yml');
    fs.writeFileSync(configFile, YAML.stringify(config));

    apiPort = await freePort();
    const args = pod.args
      .filter((a) => !a.startsWith('--web.listen-address=') && !a.startsWith('--config.file=') && !a.startsWith('--storage.tsdb.path='))
      .concat([`--config.file=${configFile}`, `--storage.tsdb.path=${path.join(root, 'data')}`, `--web.listen-address=127.0.0.1:${apiPort}`]);
    server = startProcess(prometheusServer, args);
    await waitForPort(apiPort, 10_000);
  }, 20_000);

  afterAll(async () => {
    await server?.stop();
    await new Promise((resolve) => app?.close(resolve));
    await new Promise((resolve) => app6?.close(resolve));
    fs.rmSync(root, { recursive: true, force: true });
  });

  async function api(pathAndQuery: string): Promise<Json> {
    const response = await fetch(`http://127.0.0.1:${apiPort}${pathAndQuery}`);
    return ((await response.json()) as Json).data;
  }

  // Discovery hands new targets to the scrape manager every 5 s: the first scrape comes after that.
  function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
    return poll(probe, timeoutMs, async () => `condition not met within ${timeoutMs} ms; targets:\n${JSON.stringify(await api('/api/v1/targets'), null, 1).slice(0, 6000)}`);
  }

  test('it starts on the Deployment flags (retention time and size) and loads every rule group', async () => {
    // WHEN it is ready
    await eventually(async () => ((await fetch(`http://127.0.0.1:${apiPort}/-/ready`)).ok ? true : undefined));

    // THEN the retention flags are the Deployment's, and the three groups are loaded
    const flags = await api('/api/v1/status/flags');
    expect(flags['storage.tsdb.retention.time']).toBe('2d');
    expect(flags['storage.tsdb.retention.size']).toBe('3GiB409MiB'); // 3481MB: 85% of the 4Gi emptyDir
    const rules = await api('/api/v1/rules');
    expect(rules.groups.map((g: Json) => g.name).sort()).toEqual(['alertmanager', 'kube-state-metrics', 'nginx', 'node-exporter', 'platform', 'redis', 'router']);
    expect(rules.groups.flatMap((g: Json) => g.rules).every((r: Json) => r.health !== 'err')).toBe(true);
  });

  test('the kubernetes-pods job scrapes a running annotated pod once, on its annotated port and path, and drops the rest', async () => {
    // WHEN the pod's series arrive
    const series = await eventually(async () => {
      const result = (await api(`/api/v1/query?query=${encodeURIComponent('demo_requests_total{job="kubernetes-pods",pod="api-1"}')}`)).result;
      return result.length > 0 ? result : undefined;
    });

    // THEN there is one series, labelled with namespace, pod, node and the pod's labels
    expect(series).toHaveLength(1);
    expect(series[0].metric).toEqual({
      __name__: 'demo_requests_total',
      job: 'kubernetes-pods',
      instance: `127.0.0.1:${appPort}`,
      namespace: 'platform-dev',
      pod: 'api-1',
      node: 'node-1',
      app_kubernetes_io_name: 'api',
    });
    expect(series[0].value[1]).toBe('7');
    // AND the pending and the unannotated pods were dropped; both ports of api-1 became one target
    const targets = await api('/api/v1/targets');
    const active = targets.activeTargets.filter((t: Json) => t.labels.job === 'kubernetes-pods' && t.labels.pod === 'api-1');
    expect(active.map((t: Json) => t.scrapeUrl)).toEqual([`http://127.0.0.1:${appPort}/custom-metrics`]);
    const dropped = targets.droppedTargets.filter((t: Json) => t.discoveredLabels.job === 'kubernetes-pods').map((t: Json) => t.discoveredLabels.__meta_kubernetes_pod_name);
    expect(dropped.sort()).toEqual(['api-2', 'other-1']);
  }, 20_000);

  test('the kubernetes-service-endpoints job scrapes annotated services by EndpointSlice, labelled with service and pod', async () => {
    const series = await eventually(async () => {
      const result = (await api(`/api/v1/query?query=${encodeURIComponent('demo_requests_total{job="kubernetes-service-endpoints",service="api"}')}`)).result;
      return result.length > 0 ? result : undefined;
    });
    expect(series).toHaveLength(1);
    expect(series[0].metric).toEqual({
      __name__: 'demo_requests_total',
      job: 'kubernetes-service-endpoints',
      instance: `127.0.0.1:${appPort}`,
      namespace: 'platform-dev',
      service: 'api',
      pod: 'api-1',
      app: 'api',
    });
  }, 20_000);

  test.each([
    ['kubernetes-pods', 'pod', 'api-v6', '[0:0:0:0:0:0:0:1]'],
    ['kubernetes-service-endpoints', 'service', 'api-v6', '[::1]'],
  ])('%s scrapes an IPv6 address in brackets, on the annotated port', async (job, label, name, host) => {
    // WHEN the IPv6 target's series arrive (its address rewritten to the annotated port)
    const series = await eventually(async () => {
      const result = (await api(`/api/v1/query?query=${encodeURIComponent(`demo_requests_total{job="${job}",${label}="${name}"}`)}`)).result;
      return result.length > 0 ? result : undefined;
    });
    // THEN it was scraped at [address]:port, and the instance says so
    expect(series.map((s: Json) => [s.metric.instance, s.value[1]])).toEqual([[`${host}:${appPort}`, '7']]);
    const targets = (await api('/api/v1/targets')).activeTargets.filter((t: Json) => t.labels.job === job && t.labels[label] === name);
    expect(targets.map((t: Json) => [t.scrapeUrl, t.health])).toEqual([[`http://${host}:${appPort}/custom-metrics`, 'up']]);
  }, 20_000);
});
