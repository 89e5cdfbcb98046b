// The manifests meet a real Kubernetes API server (test/cluster/control-plane.ts: etcd,
// kube-apiserver and kube-controller-manager built by `npm run engines`). For every folder of
// MANIFEST_FOLDERS: a strict server-side apply with 0 warnings, the Pods the controllers create
// admitted under the namespace's "restricted" enforcement, StatefulSet claims as specified, a second
// apply that changes nothing, delete and apply again; then the Prometheus ServiceAccount's
// permissions as the API server reports them, and a real Prometheus discovering the environment
// with that ServiceAccount's token.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import { ENVIRONMENTS, Prometheus } from '../lib';
import { applyFolder, liveObjects, objectName, readManifests } from './cluster/apply';
import { ControlPlane, startControlPlane } from './cluster/control-plane';
import { kubeconformSchemas } from './cluster/kubeconform-schemas';
import { enginePath, freePort, run, startProcess, tempDir, waitForPort } from './support/engines';
import { K8sObject, synthWith } from './support/synth';

const ROOT = path.join(__dirname, '..');

/** The manifest folders applied to the cluster: every environment of dist/ (add an app's output here). */
const MANIFEST_FOLDERS: readonly { name: string; dir: string }[] = ENVIRONMENTS.map((e) => ({ name: e.name, dir: path.join(ROOT, 'dist', e.name) }));

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

let cluster: ControlPlane;

beforeAll(async () => {
  const started = Date.now();
  cluster = await startControlPlane();
  console.log(`control plane (etcd, kube-apiserver, kube-controller-manager ${cluster.kubectl(['version', '-o', 'json']).match(/"gitVersion": "([^"]+)"/)?.[1]}) ready in ${Date.now() - started} ms at ${cluster.server}`);
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
});

async function eventually<T>(what: string, probe: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The Pods a workload should have created without a scheduler or kubelet (none becomes Ready). */
function expectedPods(workload: K8sObject): number {
  const replicas = workload.spec.replicas ?? 1;
  // OrderedReady creates pod 0, then waits for it to be Ready before the next one.
  if (workload.kind === 'StatefulSet' && (workload.spec.podManagementPolicy ?? 'OrderedReady') === 'OrderedReady') return Math.min(replicas, 1);
  return replicas;
}

function selector(workload: K8sObject): string {
  return Object.entries<string>(workload.spec.selector.matchLabels).map(([k, v]) => `${k}=${v}`).join(',');
}

describe.each(MANIFEST_FOLDERS)('$name, applied to a real API server', ({ name, dir }) => {
  const objects = readManifests(dir).map((m) => m.object);
  const namespaces = [...new Set(objects.map((o) => o.metadata.namespace).filter((n): n is string => !!n))];
  const workloads = objects.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet');

  test('kubectl apply --server-side --validate=strict succeeds with 0 warnings', async () => {
    const started = Date.now();
    const warnings = await applyFolder(cluster, dir);
    console.log(`[${name}] applied ${objects.length} objects server-side in ${Date.now() - started} ms, warnings: ${warnings.trim() ? warnings : 'none'}`);
    expect(warnings).toBe('');
    // THEN every object is there
    expect(Object.keys(liveObjects(cluster, dir)).sort()).toEqual(objects.map(objectName).sort());
  }, 120_000);

  test('the controllers create every Pod, each admitted under the namespace\'s "restricted" enforcement', async () => {
    for (const ns of namespaces.filter((n) => objects.some((o) => o.kind === 'Namespace' && o.metadata.name === n))) {
      expect(JSON.parse(cluster.kubectl(['get', 'namespace', ns, '-o', 'json'])).metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
    }
    for (const workload of workloads) {
      const ns = workload.metadata.namespace!;
      const pods = await eventually(`${objectName(workload)}: ${expectedPods(workload)} Pods`, () => {
        const found = JSON.parse(cluster.kubectl(['get', 'pods', '-n', ns, '-l', selector(workload), '-o', 'json'])).items;
        return found.length >= expectedPods(workload) ? found : undefined;
      });
      expect(pods).toHaveLength(expectedPods(workload));
    }
    // AND no controller was refused a Pod (PodSecurity refusals are FailedCreate events)
    const failed = namespaces.flatMap((ns) => JSON.parse(cluster.kubectl(['get', 'events', '-n', ns, '--field-selector=reason=FailedCreate', '-o', 'json'])).items.map((e: Json) => `${e.involvedObject.kind}/${e.involvedObject.name}: ${e.message}`));
    expect(failed).toEqual([]);
    console.log(`[${name}] Pods admitted: ${workloads.map((w) => `${objectName(w)} x${expectedPods(w)}`).join(', ')}`);
  }, 120_000);

  test('each StatefulSet\'s claims are created as its volumeClaimTemplates specify', async () => {
    for (const sts of objects.filter((o) => o.kind === 'StatefulSet')) {
      for (const template of sts.spec.volumeClaimTemplates ?? []) {
        const claimName = `${template.metadata.name}-${sts.metadata.name}-0`;
        const claim = await eventually(`PersistentVolumeClaim ${claimName}`, () => {
          const result = cluster.kubectlResult(['get', 'pvc', claimName, '-n', sts.metadata.namespace!, '-o', 'json']);
          return result.status === 0 ? JSON.parse(result.stdout) : undefined;
        });
        expect(claim.spec.accessModes).toEqual(template.spec.accessModes);
        expect(claim.spec.resources.requests).toEqual(template.spec.resources.requests);
        expect(claim.spec.storageClassName).toEqual(template.spec.storageClassName);
        for (const [key, value] of Object.entries(template.metadata.labels ?? {})) expect(claim.metadata.labels[key]).toBe(value);
      }
    }
  }, 120_000);

  test('a second apply changes nothing, and kubectl diff --server-side prints nothing', async () => {
    const before = liveObjects(cluster, dir);
    const warnings = await applyFolder(cluster, dir);
    expect(warnings).toBe('');
    expect(liveObjects(cluster, dir)).toEqual(before);
    const diff = cluster.kubectlResult(['diff', '--server-side', '--field-manager=platform-tests', '-f', dir]);
    expect({ status: diff.status, output: diff.stdout + diff.stderr }).toEqual({ status: 0, output: '' });
  }, 120_000);

  test('delete, then apply again, works', async () => {
    const started = Date.now();
    cluster.kubectl(['delete', '-f', dir, '--wait=true', '--timeout=180s']);
    const deleted = Date.now() - started;
    expect(await applyFolder(cluster, dir)).toBe('');
    expect(Object.keys(liveObjects(cluster, dir)).sort()).toEqual(objects.map(objectName).sort());
    console.log(`[${name}] deleted in ${deleted} ms, applied again in ${Date.now() - started - deleted} ms`);
  }, 240_000);
});

/** What each Kubernetes discovery role lists and watches (prometheus.io/docs, kubernetes_sd_config). */
const ROLE_RESOURCES: Record<string, string[]> = {
  node: ['nodes'],
  pod: ['pods'],
  service: ['services'],
  endpoints: ['endpoints', 'services', 'pods'],
  endpointslice: ['endpointslices.discovery.k8s.io', 'services', 'pods'],
  ingress: ['ingresses.networking.k8s.io'],
};

/** The API permissions a prometheus.yml needs, as `<verb> <resource or URL>`. */
function neededPermissions(config: Json): string[] {
  const needed = new Set<string>();
  for (const job of config.scrape_configs) {
    for (const sd of job.kubernetes_sd_configs ?? []) {
      for (const resource of [...ROLE_RESOURCES[sd.role], ...(sd.attach_metadata?.node ? ['nodes'] : [])]) for (const verb of ['list', 'watch']) needed.add(`${verb} ${resource}`);
    }
    for (const rule of job.relabel_configs ?? []) {
      // Scraping a node through the API server's proxy (/api/v1/nodes/<node>/proxy/...).
      if (rule.target_label === '__metrics_path__' && /^\/api\/v1\/nodes\/[^/]+\/proxy\//.test(rule.replacement ?? '')) needed.add('get nodes/proxy');
      // Scraping the API server itself (the default/kubernetes Service's https port), at /metrics.
      if (rule.action === 'keep' && rule.regex === 'default;kubernetes;https') needed.add(`get ${job.metrics_path ?? '/metrics'}`);
    }
  }
  return [...needed].sort();
}

/** The permissions a token has, as `<verb> <resource or URL>`, from a SelfSubjectRulesReview in `namespace`. */
function permissionsOf(kubeconfig: string, namespace: string): Set<string> {
  const review = { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', spec: { namespace } };
  const status = JSON.parse(run(enginePath('kubectl'), [`--kubeconfig=${kubeconfig}`, 'create', '--validate=false', '-f', '-', '-o', 'json'], { input: JSON.stringify(review) })).status;
  const out = new Set<string>();
  for (const rule of status.resourceRules ?? []) {
    for (const verb of rule.verbs) for (const group of rule.apiGroups ?? ['']) for (const resource of rule.resources ?? []) out.add(`${verb} ${resource}${group ? `.${group}` : ''}${rule.resourceNames ? ` [${rule.resourceNames.join(',')}]` : ''}`);
  }
  for (const rule of status.nonResourceRules ?? []) for (const verb of rule.verbs) for (const url of rule.nonResourceURLs) out.add(`${verb} ${url}`);
  return out;
}

/** A kubeconfig that authenticates with a token of `serviceAccount` (and nothing else). */
function tokenKubeconfig(dir: string, namespace: string, serviceAccount: string): { kubeconfig: string; tokenFile: string } {
  const token = cluster.kubectl(['create', 'token', serviceAccount, '-n', namespace, '--duration=1h']).trim();
  const tokenFile = path.join(dir, `${serviceAccount}.token`);
  fs.writeFileSync(tokenFile, token);
  const kubeconfig = path.join(dir, `${serviceAccount}.kubeconfig`);
  fs.writeFileSync(kubeconfig, JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'test', cluster: { server: cluster.server, 'certificate-authority': cluster.caFile } }],
    users: [{ name: serviceAccount, user: { tokenFile } }],
    contexts: [{ name: 'test', context: { cluster: 'test', user: serviceAccount, namespace } }],
    'current-context': 'test',
  }));
  return { kubeconfig, tokenFile };
}

// Granted beyond what the scrape configuration needs. Issue #14 narrows the ClusterRole: when it
// does, this list shrinks with it (to empty); the test pins today's grant exactly meanwhile.
const GRANTED_BEYOND_NEED: string[] = [
  'get endpoints', 'list endpoints', 'watch endpoints', // no job uses the endpoints role
  'get endpointslices.discovery.k8s.io', 'get pods', 'get services', 'get nodes', // discovery only lists and watches
  'get ingresses.networking.k8s.io', 'list ingresses.networking.k8s.io', 'watch ingresses.networking.k8s.io', // no job uses the ingress role
  'get nodes/metrics', 'list nodes/metrics', 'watch nodes/metrics', // nodes are scraped through the API server's proxy, not directly
  'list nodes/proxy', 'watch nodes/proxy', // the proxy needs get only
].sort();

/** Prometheus's own counters of its Kubernetes discovery: events handled per role, failed LIST/WATCH requests. */
async function discoveryCounters(port: number): Promise<{ events: Record<string, number>; failures: number }> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const events: Record<string, number> = {};
  let failures = 0;
  for (const line of text.split('\n')) {
    const added = /^prometheus_sd_kubernetes_events_total\{event="add",role="(\w+)"\} (\S+)$/.exec(line);
    if (added) events[added[1]] = Number(added[2]);
    const failed = /^prometheus_sd_kubernetes_failures_total (\S+)$/.exec(line);
    if (failed) failures += Number(failed[1]);
  }
  return { events, failures };
}

describe.each(ENVIRONMENTS.map((e) => e.name))('Prometheus of %s against the real API server', (name) => {
  const objects = readManifests(path.join(ROOT, 'dist', name)).map((m) => m.object);
  const account = objects.find((o) => o.kind === 'ServiceAccount' && o.metadata.name.endsWith('prometheus'))!;
  const namespace = account.metadata.namespace!;
  const configMap = objects.find((o) => o.kind === 'ConfigMap' && o.data?.['prometheus.yml'])!;
  const config = YAML.parse(configMap.data['prometheus.yml']);
  let dir: string;
  beforeAll(() => (dir = tempDir(`prometheus-${name}-cluster`)));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('its ServiceAccount may do what the scrape configuration needs (kubectl auth can-i --list)', () => {
    // GIVEN a token of the ServiceAccount from dist/, and one of the namespace's "default" (no grants)
    const prometheus = tokenKubeconfig(dir, namespace, account.metadata.name);
    const nobody = tokenKubeconfig(dir, namespace, 'default');
    console.log(`[${name}] kubectl auth can-i --list as ${namespace}/${account.metadata.name}:\n${run(enginePath('kubectl'), [`--kubeconfig=${prometheus.kubeconfig}`, 'auth', 'can-i', '--list'])}`);

    // WHEN the API server reports what each may do
    const baseline = permissionsOf(nobody.kubeconfig, namespace);
    const granted = [...permissionsOf(prometheus.kubeconfig, namespace)].filter((p) => !baseline.has(p)).sort();

    // THEN it has everything the scrape configuration needs, and beyond that only the listed extras
    const needed = neededPermissions(config);
    expect(needed.filter((p) => !granted.includes(p))).toEqual([]);
    expect(granted.filter((p) => !needed.includes(p))).toEqual(GRANTED_BEYOND_NEED);
  });

  test('a real Prometheus with that token lists and watches every Pod, Service and EndpointSlice, with no 403 in its log', async () => {
    // GIVEN the synthesized config and rules, Kubernetes discovery pointed at the local API server
    // with the ServiceAccount's token (in a pod the same comes from the in-cluster defaults)
    const { tokenFile } = tokenKubeconfig(dir, namespace, account.metadata.name);
    for (const [key, content] of Object.entries<string>(configMap.data)) fs.writeFileSync(path.join(dir, key), content);
    for (const job of config.scrape_configs) {
      if (job.authorization?.credentials_file) job.authorization.credentials_file = tokenFile;
      if (job.tls_config?.ca_file) job.tls_config.ca_file = cluster.caFile;
      for (const sd of job.kubernetes_sd_configs ?? []) Object.assign(sd, { api_server: cluster.server, authorization: { credentials_file: tokenFile }, tls_config: { ca_file: cluster.caFile } });
    }
    fs.writeFileSync(path.join(dir, 'prometheus.yml'), YAML.stringify(config));
    const port = await freePort();
    const server = startProcess(enginePath('prometheus'), [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=debug']);
    try {
      await waitForPort(port, 30_000);
      const count = (resource: string) => JSON.parse(cluster.kubectl(['get', resource, '-A', '-o', 'json'])).items.length;
      const expected = { pod: count('pods'), service: count('services'), endpointslice: count('endpointslices') };

      // WHEN its discovery has listed and watched the cluster
      const deadline = Date.now() + 60_000;
      let counters = await discoveryCounters(port);
      while ((counters.events.pod ?? 0) < expected.pod || (counters.events.endpointslice ?? 0) < expected.endpointslice || (counters.events.service ?? 0) < expected.service) {
        if (Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 500));
        counters = await discoveryCounters(port);
      }

      // THEN it handled every Pod, Service and EndpointSlice of the cluster, and no request failed or was refused.
      // (They become targets only with a Pod IP, which a kubelet gives; this cluster has none: the
      // relabeling of discovered targets runs in test/prometheus-promtool.test.ts.)
      console.log(`[${name}] Prometheus discovery as ${namespace}/${account.metadata.name}: ${JSON.stringify(counters)}; in the cluster: ${JSON.stringify(expected)}`);
      expect(counters.events.pod).toBeGreaterThanOrEqual(expected.pod);
      expect(counters.events.service).toBeGreaterThanOrEqual(expected.service);
      expect(counters.events.endpointslice).toBeGreaterThanOrEqual(expected.endpointslice);
      expect(counters.failures).toBe(0);
      expect(server.output()).not.toMatch(/forbidden|\b403\b/i);
    } finally {
      await server.stop();
    }
  }, 120_000);
});

describe('kubeconform -strict, with JSON schemas made from this API server\'s OpenAPI', () => {
  let schemas: string;
  let scratch: string;
  beforeAll(() => {
    scratch = tempDir('kubeconform');
    schemas = kubeconformSchemas(cluster);
  });
  afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

  function kubeconform(dir: string): Json {
    const result = spawnSync(enginePath('kubeconform'), ['-strict', '-verbose', '-summary', '-output', 'json', '-schema-location', path.join(schemas, '{{ .ResourceKind }}{{ .KindSuffix }}.json'), dir], { encoding: 'utf8' });
    if (result.status !== 0 && result.status !== 1) throw new Error(`kubeconform failed (${result.status}): ${result.stderr}`);
    return JSON.parse(result.stdout);
  }

  test.each(MANIFEST_FOLDERS)('every object of $name is valid, unknown fields rejected', ({ name, dir }) => {
    const report = kubeconform(dir);
    expect(report.resources.filter((r: Json) => r.status !== 'statusValid').map((r: Json) => `${r.kind}/${r.name}: ${r.status} ${r.msg}`)).toEqual([]);
    expect(report.summary.valid).toBe(readManifests(dir).length);
    console.log(`[${name}] kubeconform -strict: ${JSON.stringify(report.summary)}`);
  });

  test('the schemas reject an unknown field inside a pod template', () => {
    // GIVEN a Deployment whose readiness probe misspells `path`
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'ns' },
      spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'web', image: 'nginx:1', readinessProbe: { httpGet: { port: 80, pth: '/' } } }] } } },
    };
    fs.writeFileSync(path.join(scratch, 'web.yaml'), YAML.stringify(deployment));
    // THEN kubeconform says where
    const [resource] = kubeconform(scratch).resources;
    expect(resource.status).toBe('statusInvalid');
    expect(resource.msg).toMatch(/readinessProbe\/httpGet.*additional properties 'pth' not allowed/);
  });
});

describe('the optional prometheus-operator objects', () => {
  let dir: string;
  beforeAll(() => {
    // GIVEN the operator's CRDs (imports/crds) and a chart whose Prometheus emits its objects
    dir = tempDir('operator-objects');
    for (const file of fs.readdirSync(path.join(ROOT, 'imports', 'crds'))) fs.copyFileSync(path.join(ROOT, 'imports', 'crds', file), path.join(dir, file));
    const objects = synthWith((chart) => new Prometheus(chart, 'prometheus', { prometheusOperator: true }));
    fs.writeFileSync(path.join(dir, 'chart.yaml'), objects.map((o) => YAML.stringify(o)).join('---\n'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('apply server-side and strictly after their CRDs, with 0 warnings', async () => {
    expect(await applyFolder(cluster, dir)).toBe('');
    const kinds = JSON.parse(cluster.kubectl(['get', 'servicemonitors,prometheusrules', '-A', '-o', 'json'])).items.map((o: Json) => o.kind);
    expect(kinds).toEqual(expect.arrayContaining(['PrometheusRule', 'ServiceMonitor']));
  }, 120_000);

  test('an unknown field in one of them is refused by the API server, naming it', () => {
    const monitor = JSON.parse(cluster.kubectl(['get', 'servicemonitors', '-A', '-o', 'json'])).items[0];
    const bad = { apiVersion: monitor.apiVersion, kind: monitor.kind, metadata: { name: monitor.metadata.name, namespace: monitor.metadata.namespace }, spec: { ...monitor.spec, bogus: 1 } };
    const result = cluster.kubectlResult(['apply', '--server-side', '--validate=strict', '--field-manager=platform-tests', '-f', '-'], JSON.stringify(bad));
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('ServiceMonitor): .spec.bogus: field not declared in schema');
  });
});

describe('manifests the API server refuses', () => {
  let dir: string;
  const longName = `a${'b'.repeat(253)}`;
  const restricted = { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/warn': 'restricted' };
  const namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'refused', labels: restricted } };
  const pod = (container: Json) => ({ metadata: { labels: { app: 'bad' } }, spec: { securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } }, containers: [{ name: 'app', image: 'example:1', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } }, ...container }] } });
  beforeAll(() => (dir = tempDir('refused')));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test.each<[string, Json, string, RegExp]>([
    [
      'requests above limits',
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'requests-above-limits', namespace: 'refused' }, spec: { selector: { matchLabels: { app: 'bad' } }, template: pod({ resources: { requests: { cpu: '2' }, limits: { cpu: '1' } } }) } },
      'Deployment/requests-above-limits',
      /spec\.template\.spec\.containers\[0\]\.resources\.requests: Invalid value: "2": must be less than or equal to cpu limit/,
    ],
    [
      'a name too long',
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: longName, namespace: 'refused' }, data: { a: 'b' } },
      `ConfigMap/${longName}`,
      /metadata\.name: Invalid value: "ab+": must be no more than 253 characters/,
    ],
  ])('%s: the apply fails naming the object and quoting the server', async (_case, object, named, said) => {
    // GIVEN a folder with the namespace and the bad object
    const folder = fs.mkdtempSync(path.join(dir, 'case-'));
    fs.writeFileSync(path.join(folder, 'objects.yaml'), [namespace, object].map((o) => YAML.stringify(o)).join('---\n'));
    // WHEN it is applied THEN the error names the object and quotes the API server
    const error = await applyFolder(cluster, folder).then(() => 'applied', (e: Error) => e.message);
    expect(error).toContain(`kubectl apply --server-side refused ${named};`);
    expect(error).toMatch(said);
  }, 120_000);

  test('a pod template that breaks "restricted" makes a warning on apply and a FailedCreate, not a Pod', async () => {
    // GIVEN a Deployment in the restricted namespace whose container may escalate privileges
    const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'escalates', namespace: 'refused' }, spec: { selector: { matchLabels: { app: 'escalates' } }, template: { metadata: { labels: { app: 'escalates' } }, spec: { containers: [{ name: 'app', image: 'example:1' }] } } } };
    const file = path.join(dir, 'escalates.yaml');
    fs.writeFileSync(file, YAML.stringify(deployment));
    // WHEN it is applied THEN the server warns, and the ReplicaSet controller is refused its Pod
    const warnings = cluster.kubectlResult(['apply', '--server-side', '--validate=strict', '--field-manager=platform-tests', '-f', file]).stderr;
    expect(warnings).toContain('would violate PodSecurity "restricted:latest"');
    const refused = await eventually('a FailedCreate event', () => {
      const events = JSON.parse(cluster.kubectl(['get', 'events', '-n', 'refused', '--field-selector=reason=FailedCreate', '-o', 'json'])).items;
      return events.length ? events[0].message : undefined;
    });
    expect(refused).toContain('violates PodSecurity "restricted:latest"');
  }, 120_000);
});
