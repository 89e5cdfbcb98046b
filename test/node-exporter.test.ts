// The NodeExporter construct: a DaemonSet with the host access node-exporter needs and nothing more,
// in a namespace of its own whose Pod Security level admits exactly that; Prometheus scraping it
// through pod discovery in that namespace (a Role there), each target named by its node.
import { Chart, Testing } from 'cdk8s';
import { parse } from 'yaml';
import { denyAllTrafficExceptDns, NodeExporter, NodeExporterProps, Prometheus, restrictedViolations } from '../lib';
import { configMapFile, findObject, K8sObject, synthWith, testApp } from './support/synth';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

function synthNodeExporter(props: NodeExporterProps = {}): K8sObject[] {
  return synthWith((chart) => {
    denyAllTrafficExceptDns(chart);
    const nodeExporter = new NodeExporter(chart, 'node-exporter', props);
    new Prometheus(chart, 'prometheus', { nodeExporter });
  });
}

const daemonSet = (objects: K8sObject[]) => findObject(objects, 'DaemonSet', 'test-node-exporter');

describe('NodeExporter', () => {
  test('its own namespace enforces "privileged", with the reason; the chart\'s keeps "restricted"', () => {
    const objects = synthNodeExporter();
    const namespace = findObject(objects, 'Namespace', 'platform-test-node-exporter');
    expect(namespace.metadata.labels).toMatchObject({ 'pod-security.kubernetes.io/enforce': 'privileged', 'pod-security.kubernetes.io/warn': 'privileged' });
    expect(namespace.metadata.annotations?.['platform-stack.io/pod-security-reason']).toMatch(/host's network and PID namespaces and read-only hostPath mounts of \/proc, \/sys and \//);
    expect(findObject(objects, 'Namespace', 'platform-test').metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
    // AND every object of it is in that namespace
    const own = objects.filter((x) => x.metadata.name === 'test-node-exporter' && x.kind !== 'Namespace');
    expect(own.map((o) => o.kind)).toEqual(expect.arrayContaining(['DaemonSet', 'ServiceAccount']));
    for (const o of own) expect(`${o.kind} ${o.metadata.namespace}`).toBe(`${o.kind} platform-test-node-exporter`);
  });

  test('below "restricted" only by host namespaces and hostPath volumes: non-root, read-only, no capabilities, seccomp, resources, probes', () => {
    const ds = daemonSet(synthNodeExporter());
    const spec = ds.spec.template.spec;
    expect(restrictedViolations(spec, 'spec')).toEqual([
      'spec.hostNetwork must be false', 'spec.hostPID must be false',
      'spec.volumes[proc] must not be a hostPath volume (allowed: configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected, secret)',
      'spec.volumes[sys] must not be a hostPath volume (allowed: configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected, secret)',
      'spec.volumes[root] must not be a hostPath volume (allowed: configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected, secret)',
    ]);
    expect(spec.volumes.map((v: Json) => v.hostPath.path)).toEqual(['/proc', '/sys', '/']);
    const container = spec.containers[0];
    expect(container.volumeMounts.every((m: Json) => m.readOnly === true)).toBe(true);
    expect(container.args).toEqual(expect.arrayContaining(['--path.procfs=/host/proc', '--path.sysfs=/host/sys', '--path.rootfs=/host/root', '--web.listen-address=:9100']));
    expect(container.image).toBe('quay.io/prometheus/node-exporter:v1.12.1');
    expect(spec.automountServiceAccountToken).toBe(false);
    expect(container.resources).toEqual({ requests: { cpu: '20m', memory: '32Mi', 'ephemeral-storage': '32Mi' }, limits: { cpu: '250m', memory: '128Mi', 'ephemeral-storage': '128Mi' } });
    expect(container.livenessProbe.tcpSocket.port).toBe(9100);
    expect(container.readinessProbe.httpGet).toMatchObject({ path: '/', port: 9100 });
    // A pod on every node, tainted or not
    expect(spec.tolerations).toEqual([{ operator: 'Exists' }]);
  });

  test('Prometheus discovers its pods in its namespace only (a Role there: pods list/watch), names targets by node, and may reach node addresses on its port', () => {
    const objects = synthNodeExporter({ port: 9200 });
    const job = parse(configMapFile(objects, 'test-prometheus', 'prometheus.yml')).scrape_configs.find((j: Json) => j.job_name === 'node-exporter');
    expect(job.kubernetes_sd_configs).toEqual([{ role: 'pod', namespaces: { names: ['platform-test-node-exporter'] } }]);
    expect(job.relabel_configs).toEqual(expect.arrayContaining([
      { source_labels: ['__meta_kubernetes_pod_label_app_kubernetes_io_instance', '__meta_kubernetes_pod_label_app_kubernetes_io_name'], action: 'keep', regex: 'test-node-exporter;node-exporter' },
      { source_labels: ['__meta_kubernetes_pod_container_port_number'], action: 'keep', regex: '9200' },
      { source_labels: ['__meta_kubernetes_pod_node_name'], target_label: 'instance' },
    ]));
    const role = objects.find((o) => o.kind === 'Role' && o.metadata.namespace === 'platform-test-node-exporter')!;
    expect(role.rules).toEqual([{ apiGroups: [''], resources: ['pods'], verbs: ['list', 'watch'] }]);
    const egress = findObject(objects, 'NetworkPolicy', 'test-prometheus-egress-to-node-exporters');
    expect(egress.spec.egress[0].ports).toEqual([{ port: 9200, protocol: 'TCP' }]);
    // AND in its namespace: Prometheus in on its port, DNS out, nothing else
    const own = objects.find((o) => o.kind === 'NetworkPolicy' && o.metadata.namespace === 'platform-test-node-exporter')!;
    expect(own.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(own.spec.ingress).toEqual([{ from: [{ podSelector: { matchLabels: { 'platform-stack.io/metrics-scraper': 'true' } }, namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['platform-test'] }] } }], ports: [{ protocol: 'TCP', port: 9200 }] }]);
  });

  test('a chart without default-deny gets no NetworkPolicy for it', () => {
    const chart = new Chart(testApp(), 'team', { namespace: 'team' });
    new NodeExporter(chart, 'node-exporter');
    const objects = Testing.synth(chart) as K8sObject[];
    expect(objects.map((o) => o.kind).sort()).toEqual(['DaemonSet', 'Namespace', 'ServiceAccount']);
    expect(findObject(objects, 'Namespace', 'team-node-exporter').metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('privileged');
  });
});
