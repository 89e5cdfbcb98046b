// The KubeStateMetrics construct: least-privilege RBAC (list/watch of exactly the kinds it exports),
// a pinned image, a restricted pod, and Prometheus scraping it through the construct; and issue 15's
// "CPU / limit" and "memory / limit" panels, empty in dev without it.
import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { denyAllTrafficExceptDns, KubeStateMetrics, KubeStateMetricsProps, Prometheus } from '../lib';
import { ENVIRONMENTS } from '../app/environments';
import { configMapFile, findObject, K8sObject, synthEnvironment, synthWith } from './support/synth';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

function synthKsm(props: KubeStateMetricsProps = {}): K8sObject[] {
  return synthWith((chart) => {
    denyAllTrafficExceptDns(chart);
    const kubeStateMetrics = new KubeStateMetrics(chart, 'kube-state-metrics', props);
    new Prometheus(chart, 'prometheus', { kubeStateMetrics });
  });
}

const clusterRole = (objects: K8sObject[]) => objects.find((o) => o.kind === 'ClusterRole' && o.metadata.name.endsWith('kube-state-metrics'))!;
const container = (objects: K8sObject[]) => findObject(objects, 'Deployment', 'test-kube-state-metrics').spec.template.spec.containers[0];
/** The kinds a ClusterRole's rules grant, as `group/resource: verbs`. */
const grants = (role: K8sObject): string[] => role.rules.flatMap((r: Json) => r.apiGroups.flatMap((g: string) => r.resources.map((res: string) => `${g}/${res}: ${r.verbs.join(',')}`))).sort();

/** The kube-state-metrics kind a `kube_*` metric comes from (its name's second word, pluralized). */
const KIND_OF_PREFIX: Record<string, string> = {
  pod: 'pods', node: 'nodes', deployment: 'deployments', statefulset: 'statefulsets', daemonset: 'daemonsets', replicaset: 'replicasets',
  job: 'jobs', cronjob: 'cronjobs', namespace: 'namespaces', persistentvolumeclaim: 'persistentvolumeclaims', horizontalpodautoscaler: 'horizontalpodautoscalers', poddisruptionbudget: 'poddisruptionbudgets',
};

describe('KubeStateMetrics', () => {
  test('its ClusterRole lists and watches exactly the kinds it exports, nothing else (no get, no Secrets)', () => {
    const objects = synthKsm();
    expect(grants(clusterRole(objects))).toEqual([
      '/namespaces: list,watch', '/nodes: list,watch', '/persistentvolumeclaims: list,watch', '/pods: list,watch',
      'apps/daemonsets: list,watch', 'apps/deployments: list,watch', 'apps/replicasets: list,watch', 'apps/statefulsets: list,watch',
      'autoscaling/horizontalpodautoscalers: list,watch', 'batch/cronjobs: list,watch', 'batch/jobs: list,watch', 'policy/poddisruptionbudgets: list,watch',
    ]);
    // AND --resources names the same kinds
    const flag = container(objects).args.find((a: string) => a.startsWith('--resources='));
    expect(flag.slice('--resources='.length).split(',')).toEqual(grants(clusterRole(objects)).map((g) => g.split('/')[1].split(':')[0]).sort());
    // AND fewer kinds, fewer grants
    expect(grants(clusterRole(synthKsm({ exportedResources: ['pods', 'nodes'] })))).toEqual(['/nodes: list,watch', '/pods: list,watch']);
  });

  test('a pinned image on a restricted pod with probes and resources; egress to the API server only', () => {
    const objects = synthKsm();
    const deployment = findObject(objects, 'Deployment', 'test-kube-state-metrics');
    expect(container(objects).image).toMatch(/^registry\.k8s\.io\/kube-state-metrics\/kube-state-metrics:v2\.\d+\.\d+$/);
    expect(deployment.spec.template.spec.automountServiceAccountToken).toBe(true);
    expect(container(objects).securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(container(objects).livenessProbe.httpGet).toMatchObject({ path: '/livez', port: 8080 });
    expect(container(objects).readinessProbe.httpGet).toMatchObject({ path: '/readyz', port: 8081 });
    expect(container(objects).resources).toEqual({ requests: { cpu: '50m', memory: '64Mi', 'ephemeral-storage': '64Mi' }, limits: { cpu: '500m', memory: '256Mi', 'ephemeral-storage': '256Mi' } });
    const egress = findObject(objects, 'NetworkPolicy', 'test-kube-state-metrics-egress-to-anywhere');
    expect(egress.spec.egress.flatMap((r: Json) => r.ports.map((p: Json) => p.port))).toEqual([443, 6443, 443, 6443]);
  });

  test("Prometheus's kube-state-metrics job targets the construct's Service, and the policies let it in on 8080", () => {
    const objects = synthKsm();
    const config = parse(configMapFile(objects, 'test-prometheus', 'prometheus.yml'));
    expect(config.scrape_configs.find((j: Json) => j.job_name === 'kube-state-metrics')).toEqual({
      job_name: 'kube-state-metrics', honor_labels: true, static_configs: [{ targets: ['test-kube-state-metrics.platform-test.svc:8080'] }],
    });
    expect(findObject(objects, 'Service', 'test-kube-state-metrics').spec.ports).toEqual([{ name: 'http-metrics', port: 8080, targetPort: 8080 }]);
    expect(findObject(objects, 'NetworkPolicy', 'test-kube-state-metrics-ingress-from-prometheus').spec.ingress[0].ports).toEqual([{ port: 8080, protocol: 'TCP' }]);
  });

  test('every environment (dev included: issue 15) scrapes its kube-state-metrics, which exports every kube_* metric the dashboards and rules read', () => {
    // GIVEN the kube_* metrics of the shipped dashboards
    const dashboards = path.join(__dirname, '..', 'dashboards');
    const files = fs.readdirSync(dashboards, { recursive: true }).map(String).filter((f) => f.endsWith('.json'));
    const metrics = new Set(files.flatMap((f) => fs.readFileSync(path.join(dashboards, f), 'utf8').match(/\bkube_[a-z_]+/g) ?? []));
    expect([...metrics]).toContain('kube_pod_container_resource_limits');
    for (const { name } of ENVIRONMENTS) {
      const objects = synthEnvironment(name);
      // THEN its Prometheus scrapes its kube-state-metrics Service
      const config = parse(configMapFile(objects, `${name}-prometheus`, 'prometheus.yml'));
      const job = config.scrape_configs.find((j: Json) => j.job_name === 'kube-state-metrics');
      expect({ name, targets: job?.static_configs[0].targets }).toEqual({ name, targets: [`${name}-kube-state-metrics.platform-${name}.svc:8080`] });
      // AND the kind of each metric is exported and granted (also the rules')
      const ruleText = Object.entries<string>(findObject(objects, 'ConfigMap', `${name}-prometheus`).data).filter(([k]) => k.endsWith('.rules.yml')).map(([, v]) => v).join('\n');
      const all = new Set([...metrics, ...(ruleText.match(/\bkube_[a-z_]+/g) ?? [])]);
      const granted = grants(objects.find((o) => o.kind === 'ClusterRole' && o.metadata.name.endsWith('kube-state-metrics'))!).map((g) => g.split('/')[1].split(':')[0]);
      for (const metric of all) expect({ metric, kind: granted.includes(KIND_OF_PREFIX[metric.split('_')[1]]) }).toEqual({ metric, kind: true });
    }
  });

  test('fails on a kind it does not know, none, or twice', () => {
    expect(() => synthKsm({ exportedResources: ['pods', 'widgets' as never, 'pods'] })).toThrow([
      "KubeStateMetrics 'test/kube-state-metrics' has 2 invalid props:",
      "  - exportedResources[1] must be one of certificatesigningrequests|configmaps|cronjobs|daemonsets|deployments|endpointslices|horizontalpodautoscalers|ingresses|jobs|leases|limitranges|mutatingwebhookconfigurations|namespaces|networkpolicies|nodes|persistentvolumeclaims|persistentvolumes|poddisruptionbudgets|pods|replicasets|replicationcontrollers|resourcequotas|secrets|services|statefulsets|storageclasses|validatingwebhookconfigurations|volumeattachments, got 'widgets'",
      "  - exportedResources must be unique, got 'pods'",
    ].join('\n'));
  });
});
