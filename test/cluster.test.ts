// The manifests meet a real Kubernetes API server (test/cluster/control-plane.ts: etcd,
// kube-apiserver and kube-controller-manager built by `npm run engines`). For every folder of
// MANIFEST_FOLDERS: a strict server-side apply with 0 warnings, the Pods the controllers create
// admitted under the namespace's "restricted" enforcement, StatefulSet claims as specified, a second
// apply that changes nothing, delete and apply again; then the Prometheus ServiceAccount's
// permissions as the API server reports them, and a real Prometheus discovering the environment
// with that ServiceAccount's token.
import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import { ENVIRONMENTS } from '../app/environments';
import { Prometheus } from '../lib';
import { EXCEPTIONS } from './policy/exceptions';
import { applyFolder, liveObjects, objectKey, objectName, readManifests } from './cluster/apply';
import { ControlPlane, startControlPlane } from './cluster/control-plane';
import { enginePath, eventually as poll, freePort, run, startProcess, tempDir, waitForPort } from './support/engines';
import { K8sObject, synthWith } from './support/synth';

const ROOT = path.join(__dirname, '..');

/**
 * The example team app (examples/team-app/main.ts, its namespaces chart included) synthesized on
 * the working tree's library into a temp folder: its output folder. (test/package.test.ts runs the
 * same app on the packed package.)
 */
function synthExampleApp(scratch: string): string {
  const shim = path.join(scratch, 'node_modules', 'cdk8s-platform-stack');
  fs.mkdirSync(shim, { recursive: true });
  fs.writeFileSync(path.join(shim, 'index.js'), `module.exports = require(${JSON.stringify(path.join(ROOT, 'lib'))});\n`);
  const outdir = path.join(scratch, 'dist');
  run(process.execPath, ['-r', path.join(ROOT, 'scripts', 'run-ts.js'), path.join(ROOT, 'examples', 'team-app', 'main.ts')], { env: { ...process.env, NODE_PATH: path.join(scratch, 'node_modules'), CDK8S_OUTDIR: outdir } });
  return outdir;
}

const EXAMPLE_SCRATCH = tempDir('example-app');
afterAll(() => fs.rmSync(EXAMPLE_SCRATCH, { recursive: true, force: true }));

/** The manifest folders applied to the cluster: every environment of dist/, and the example team app's output. */
const MANIFEST_FOLDERS: readonly { name: string; dir: string }[] = [
  ...ENVIRONMENTS.map((e) => ({ name: e.name, dir: path.join(ROOT, 'dist', e.name) })),
  { name: 'examples/team-app', dir: synthExampleApp(EXAMPLE_SCRATCH) },
];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

let cluster: ControlPlane;

/** Namespaces listed as exceptions to "restricted" (test/policy/exceptions.ts), `<env>` for the environment. */
const namespaceLevelExceptions = new Set(EXCEPTIONS.filter((e) => e.check === 'pod-security/namespace-level').map((e) => e.object.replace('Namespace/', '')));

beforeAll(async () => {
  const started = Date.now();
  cluster = await startControlPlane();
  console.log(`control plane (etcd, kube-apiserver, kube-controller-manager ${cluster.kubectl(['version', '-o', 'json']).match(/"gitVersion": "([^"]+)"/)?.[1]}) ready in ${Date.now() - started} ms at ${cluster.server}`);
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
});

function eventually<T>(what: string, probe: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  return poll(probe, timeoutMs, () => `${what}: not within ${timeoutMs} ms`, 250);
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
    expect(Object.keys(liveObjects(cluster, dir)).sort()).toEqual(objects.map(objectKey).sort());
  }, 120_000);

  test('the controllers create every Pod, each admitted under the namespace\'s "restricted" enforcement (or the listed exception\'s level)', async () => {
    for (const ns of namespaces.filter((n) => objects.some((o) => o.kind === 'Namespace' && o.metadata.name === n))) {
      const level = JSON.parse(cluster.kubectl(['get', 'namespace', ns, '-o', 'json'])).metadata.labels['pod-security.kubernetes.io/enforce'];
      expect({ ns, level }).toEqual({ ns, level: namespaceLevelExceptions.has(ns.replace(name, '<env>')) ? 'privileged' : 'restricted' });
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

  // The DaemonSet tests below are made per DaemonSet found: this one fails if an environment's
  // node-exporter went missing from its folder, so they cannot silently vanish.
  test('holds a DaemonSet for each node-exporter its app runs', () => {
    const environment = ENVIRONMENTS.find((e) => e.name === name);
    const nodeExporters = environment && environment.nodeExporter !== false ? 1 : 0;
    expect(objects.filter((o) => o.kind === 'DaemonSet')).toHaveLength(nodeExporters);
  });

  // A DaemonSet has no Pod without a node; the API server judges its pod as it would the
  // controller's: a server-side dry run of a Pod with its template, in its namespace.
  for (const daemonSet of objects.filter((o) => o.kind === 'DaemonSet')) test(`${objectName(daemonSet)}: its pod is admitted at its namespace's level, and would be refused under "restricted"`, () => {
    // (Elsewhere without its ServiceAccount, which exists only in its own namespace.)
    const pod = (namespace: string) => JSON.stringify({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: `${daemonSet.metadata.name}-probe`, namespace, labels: daemonSet.spec.template.metadata.labels },
      spec: namespace === daemonSet.metadata.namespace ? daemonSet.spec.template.spec : { ...daemonSet.spec.template.spec, serviceAccountName: undefined },
    });
    const admitted = cluster.kubectlResult(['create', '--dry-run=server', '-o', 'name', '-f', '-'], pod(daemonSet.metadata.namespace!));
    expect({ status: admitted.status, stderr: admitted.stderr }).toEqual({ status: 0, stderr: '' });
    // The environment's own namespace enforces "restricted": the lower level is what admits it.
    const restrictedNs = namespaces.find((n) => objects.some((o) => o.kind === 'Namespace' && o.metadata.name === n && o.metadata.labels?.['pod-security.kubernetes.io/enforce'] === 'restricted'))!;
    const refused = cluster.kubectlResult(['create', '--dry-run=server', '-o', 'name', '-f', '-'], pod(restrictedNs));
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain('violates PodSecurity "restricted:v1.27": host namespaces (hostNetwork=true, hostPID=true)');
    expect(refused.stderr).toContain('restricted volume types (volumes "proc", "sys", "root" use restricted volume type "hostPath")');
  });

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
    expect(Object.keys(liveObjects(cluster, dir)).sort()).toEqual(objects.map(objectKey).sort());
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

/** Cluster-wide scope in a permission: `*: <verb> <resource>`. */
const CLUSTER = '*';

/**
 * The API permissions a prometheus.yml needs, as `<namespace or *>: <verb> <resource or URL>`: a
 * discovery role limited to `namespaces.names` needs its resources there only; nodes are cluster-scoped.
 */
function neededPermissions(config: Json): string[] {
  const needed = new Set<string>();
  for (const job of config.scrape_configs) {
    const proxied = (job.relabel_configs ?? []).some((rule: Json) => rule.target_label === '__metrics_path__' && /^\/api\/v1\/nodes\/[^/]+\/proxy\//.test(rule.replacement ?? ''));
    for (const sd of job.kubernetes_sd_configs ?? []) {
      for (const resource of [...ROLE_RESOURCES[sd.role], ...(sd.attach_metadata?.node ? ['nodes'] : [])]) {
        for (const scope of resource === 'nodes' ? [CLUSTER] : (sd.namespaces?.names ?? [CLUSTER])) for (const verb of ['list', 'watch']) needed.add(`${scope}: ${verb} ${resource}`);
      }
      // A node job scraped at the kubelet itself (not through the API server's proxy): the kubelet
      // authorizes its /metrics and /metrics/cadvisor as `get nodes/metrics`.
      if (sd.role === 'node' && !proxied) needed.add(`${CLUSTER}: get nodes/metrics`);
    }
    // Scraping a node through the API server's proxy (/api/v1/nodes/<node>/proxy/...).
    if (proxied) needed.add(`${CLUSTER}: get nodes/proxy`);
    // Scraping the API server itself (the default/kubernetes Service's https port), at /metrics.
    if ((job.relabel_configs ?? []).some((rule: Json) => rule.action === 'keep' && rule.regex === 'default;kubernetes;https')) needed.add(`${CLUSTER}: get ${job.metrics_path ?? '/metrics'}`);
  }
  return [...needed].sort();
}

/** kube-state-metrics's `--resources` and their API groups (its README's resource list). */
const KUBE_STATE_METRICS_GROUPS: Record<string, string> = {
  cronjobs: 'batch', jobs: 'batch', daemonsets: 'apps', deployments: 'apps', replicasets: 'apps', statefulsets: 'apps',
  horizontalpodautoscalers: 'autoscaling', poddisruptionbudgets: 'policy', namespaces: '', nodes: '', persistentvolumeclaims: '', pods: '',
};

/** What kube-state-metrics needs for the resources it is told to export: list and watch them, cluster-wide. */
function kubeStateMetricsNeeds(deployment: K8sObject): string[] {
  const flag = deployment.spec.template.spec.containers[0].args.find((a: string) => a.startsWith('--resources='));
  return (flag.slice('--resources='.length) as string).split(',').flatMap((resource) => {
    const group = KUBE_STATE_METRICS_GROUPS[resource];
    if (group === undefined) throw new Error(`kube-state-metrics resource ${resource}: add its API group to KUBE_STATE_METRICS_GROUPS`);
    return ['list', 'watch'].map((verb) => `${CLUSTER}: ${verb} ${resource}${group ? `.${group}` : ''}`);
  }).sort();
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

/** A namespace no Role is bound in: what a token may do there, it may do everywhere. */
const UNBOUND_NAMESPACE = 'rbac-probe-no-bindings';

/**
 * What `kubeconfig`'s token may do beyond `baseline`'s (a ServiceAccount without grants), as
 * `<namespace or *>: <verb> <resource or URL>`, over every namespace of the cluster.
 */
function grantedPermissions(kubeconfig: string, baseline: string): string[] {
  const beyond = (namespace: string, exclude: Set<string>) => {
    const baselineHere = permissionsOf(baseline, namespace);
    return [...permissionsOf(kubeconfig, namespace)].filter((p) => !exclude.has(p) && !baselineHere.has(p));
  };
  const clusterWide = new Set(beyond(UNBOUND_NAMESPACE, new Set()));
  const namespaces: string[] = JSON.parse(cluster.kubectl(['get', 'namespaces', '-o', 'json'])).items.map((n: Json) => n.metadata.name);
  return [
    ...[...clusterWide].map((p) => `${CLUSTER}: ${p}`),
    ...namespaces.flatMap((namespace) => beyond(namespace, clusterWide).map((p) => `${namespace}: ${p}`)),
  ].sort();
}

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

  test('its ServiceAccount may do exactly what the scrape configuration needs, where it needs it (kubectl auth can-i --list)', () => {
    // GIVEN a token of the ServiceAccount from dist/, and one of the namespace's "default" (no grants)
    const prometheus = tokenKubeconfig(dir, namespace, account.metadata.name);
    const nobody = tokenKubeconfig(dir, namespace, 'default');
    console.log(`[${name}] kubectl auth can-i --list as ${namespace}/${account.metadata.name}:\n${run(enginePath('kubectl'), [`--kubeconfig=${prometheus.kubeconfig}`, 'auth', 'can-i', '--list'])}`);

    // WHEN the API server reports what it may do, namespace by namespace, beyond "default"
    const granted = grantedPermissions(prometheus.kubeconfig, nobody.kubeconfig);

    // THEN that is what its jobs' discovery and scrapes need, nothing more
    console.log(`[${name}] ${account.metadata.name} needs and is granted:\n  ${granted.join('\n  ')}`);
    expect(granted).toEqual(neededPermissions(config));
  });

  test('kube-state-metrics\'s ServiceAccount may list and watch exactly the resources it exports', () => {
    const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.name.endsWith('kube-state-metrics'))!;
    const { kubeconfig } = tokenKubeconfig(dir, namespace, deployment.spec.template.spec.serviceAccountName);
    const nobody = tokenKubeconfig(dir, namespace, 'default');
    expect(grantedPermissions(kubeconfig, nobody.kubeconfig)).toEqual(kubeStateMetricsNeeds(deployment));
  });

  test('a real Prometheus with that token lists and watches every Pod, Service and EndpointSlice of the namespaces it discovers, with no 403 in its log', async () => {
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
      // The namespaces its pod and endpointslice jobs discover (its own, and default for the API server)
      const discovered = [...new Set(config.scrape_configs.flatMap((job: Json) => (job.kubernetes_sd_configs ?? []).filter((sd: Json) => sd.role !== 'node').map((sd: Json) => sd.namespaces.names).flat()))] as string[];
      const count = (resource: string) => discovered.reduce((sum, ns) => sum + JSON.parse(cluster.kubectl(['get', resource, '-n', ns, '-o', 'json'])).items.length, 0);
      const expected = { pod: count('pods'), service: count('services'), endpointslice: count('endpointslices') };

      // WHEN its discovery has listed and watched those namespaces
      const deadline = Date.now() + 60_000;
      let counters = await discoveryCounters(port);
      while ((counters.events.pod ?? 0) < expected.pod || (counters.events.endpointslice ?? 0) < expected.endpointslice || (counters.events.service ?? 0) < expected.service) {
        if (Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 500));
        counters = await discoveryCounters(port);
      }

      // THEN it handled every Pod, Service and EndpointSlice of those namespaces, and no request failed or was refused.
      // (They become targets only with a Pod IP, which a kubelet gives; this cluster has none: the
      // relabeling of discovered targets runs in test/prometheus-promtool.test.ts.)
      console.log(`[${name}] Prometheus discovery as ${namespace}/${account.metadata.name}: ${JSON.stringify(counters)}; in ${discovered.join(', ')}: ${JSON.stringify(expected)}`);
      expect(counters.events.pod).toBeGreaterThanOrEqual(expected.pod);
      expect(counters.events.service).toBeGreaterThanOrEqual(expected.service);
      expect(counters.events.endpointslice).toBeGreaterThanOrEqual(expected.endpointslice);
      expect(counters.failures).toBe(0);
      expect(server.output()).not.toMatch(/forbidden|\b403\b(?![.\dµ])/i);
    } finally {
      await server.stop();
    }
  }, 120_000);
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
