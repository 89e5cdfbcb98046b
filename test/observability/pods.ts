// The chart's pods as local processes, each on a loopback address of its own (127.0.0.0/8 is all
// loopback on Linux): a pod's network namespace has its own IP, so every process listens on the
// ports the chart says (9121, 9113, 8080, ...), and Prometheus reaches them through the chart's
// own relabel rules, which take the address from the pod IP and the `prometheus.io/port` annotation.
// The one substitution: `127.0.0.1` inside a pod (a sidecar reaching its neighbour) is the pod's IP.
import { K8sObject, findObject } from '../support/synth';
import { TargetGroup } from '../support/prometheus-server';

/** A pod of the chart, played by local processes on `ip`. */
export interface LocalPod {
  /** The workload it belongs to (Deployment, StatefulSet, DaemonSet). */
  readonly workload: K8sObject;
  /** Pod name as the controller would make it (`<workload>-0` for a StatefulSet). */
  readonly name: string;
  readonly ip: string;
}

// One /16 per run (its second octet drawn at random) and one /24 per jest worker: two runs of this
// file at once (another checkout's, say) never share an address.
const RUN_OCTET = 10 + Math.floor(Math.random() * 240);
let nextHost = 1;

/** A loopback address no other pod of this run has. */
export function podIp(): string {
  const worker = Number(process.env.JEST_WORKER_ID ?? 1) % 250;
  return `127.${RUN_OCTET}.${worker}.${nextHost++}`;
}

/** One pod of a workload, on an address of its own. */
export function localPod(objects: readonly K8sObject[], kind: string, name: string): LocalPod {
  return { workload: findObject(objects, kind, name), name: kind === 'StatefulSet' ? `${name}-0` : `${name}-7c9d8f6b5-x2x4q`, ip: podIp() };
}

/** A container of the pod's template, by name. */
export function container(pod: LocalPod, name: string): { name: string; args?: string[]; command?: string[]; ports?: { containerPort: number; name?: string }[] } {
  const containers = [...pod.workload.spec.template.spec.containers, ...(pod.workload.spec.template.spec.initContainers ?? [])];
  const found = containers.find((c: { name: string }) => c.name === name);
  if (!found) throw new Error(`${pod.workload.metadata.name} has no container ${name} (${containers.map((c: { name: string }) => c.name).join(', ')})`);
  return found;
}

/**
 * A container's args as the pod runs them: its loopback (`127.0.0.1`, `:port`) being the pod's IP,
 * and a path under a hostPath volume's mount being that path of this machine.
 */
export function podArgs(pod: LocalPod, containerName: string): string[] {
  const spec = pod.workload.spec.template.spec;
  const hostPaths: [string, string][] = (container(pod, containerName) as { volumeMounts?: { name: string; mountPath: string }[] }).volumeMounts?.flatMap((m) => {
    const hostPath = spec.volumes?.find((v: { name: string }) => v.name === m.name)?.hostPath?.path;
    return hostPath ? [[m.mountPath, hostPath] as [string, string]] : [];
  }) ?? [];
  return (container(pod, containerName).args ?? []).map((arg) => {
    let local = arg.replaceAll('127.0.0.1', pod.ip).replace(/=:(\d+)$/, `=${pod.ip}:$1`);
    for (const [mountPath, hostPath] of hostPaths) local = local.replace(new RegExp(`=${mountPath}(/|$)`), (_, end) => `=${hostPath.replace(/\/$/, '')}${end || (hostPath === '/' ? '/' : '')}`);
    return local;
  });
}

/** The labels a controller adds to the pods it creates: they change at every rollout. */
function controllerLabels(pod: LocalPod): Record<string, string> {
  switch (pod.workload.kind) {
    case 'Deployment': return { 'pod-template-hash': '7c9d8f6b5' };
    case 'StatefulSet': return { 'controller-revision-hash': `${pod.workload.metadata.name}-5d8f7c9b6`, 'statefulset.kubernetes.io/pod-name': pod.name, 'apps.kubernetes.io/pod-index': '0' };
    case 'DaemonSet': return { 'controller-revision-hash': '6b5c7d9f8', 'pod-template-generation': '1' };
    default: return {};
  }
}

/**
 * What Kubernetes pod discovery (`role: pod`) hands Prometheus for a running pod: one target per
 * container port, with the pod's meta labels (its labels and annotations as in the template, and
 * those its controller adds).
 */
export function podTargets(pod: LocalPod, nodeName: string): TargetGroup[] {
  const template = pod.workload.spec.template;
  const sanitize = (key: string) => key.replace(/[^a-zA-Z0-9_]/g, '_');
  const common: Record<string, string> = {
    __meta_kubernetes_namespace: pod.workload.metadata.namespace ?? 'default',
    __meta_kubernetes_pod_name: pod.name,
    __meta_kubernetes_pod_ip: pod.ip,
    __meta_kubernetes_pod_phase: 'Running',
    __meta_kubernetes_pod_ready: 'true',
    __meta_kubernetes_pod_node_name: nodeName,
    __meta_kubernetes_pod_host_ip: '127.0.0.1',
    __meta_kubernetes_pod_controller_kind: pod.workload.kind === 'Deployment' ? 'ReplicaSet' : pod.workload.kind,
    __meta_kubernetes_pod_controller_name: pod.workload.metadata.name,
  };
  for (const [key, value] of Object.entries<string>({ ...template.metadata?.labels, ...controllerLabels(pod) })) {
    common[`__meta_kubernetes_pod_label_${sanitize(key)}`] = value;
    common[`__meta_kubernetes_pod_labelpresent_${sanitize(key)}`] = 'true';
  }
  for (const [key, value] of Object.entries<string>(template.metadata?.annotations ?? {})) {
    common[`__meta_kubernetes_pod_annotation_${sanitize(key)}`] = value;
    common[`__meta_kubernetes_pod_annotationpresent_${sanitize(key)}`] = 'true';
  }
  const groups: TargetGroup[] = [];
  for (const c of template.spec.containers) {
    const ports: { containerPort: number; name?: string; protocol?: string }[] = c.ports ?? [];
    if (ports.length === 0) groups.push({ targets: [pod.ip], labels: { ...common, __meta_kubernetes_pod_container_name: c.name, __meta_kubernetes_pod_container_init: 'false' } });
    for (const port of ports) {
      groups.push({
        targets: [`${pod.ip}:${port.containerPort}`],
        labels: {
          ...common,
          __meta_kubernetes_pod_container_name: c.name,
          __meta_kubernetes_pod_container_init: 'false',
          __meta_kubernetes_pod_container_port_name: port.name ?? '',
          __meta_kubernetes_pod_container_port_number: String(port.containerPort),
          __meta_kubernetes_pod_container_port_protocol: port.protocol ?? 'TCP',
        },
      });
    }
  }
  return groups;
}
