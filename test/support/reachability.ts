// What the NetworkPolicies of a set of manifests let through, by the rules of the Kubernetes
// NetworkPolicy API: a pod is isolated for a direction only when a policy of that type selects it;
// then a connection must be allowed by the client's egress and by the server's ingress, each by a
// policy in the pod's own namespace.
import { podOf, selects } from '../policy/checks';
import { K8sObject } from './synth';

const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/** Pods of one workload (its template), where policies meet them. */
export interface PodGroup {
  /** `<namespace>/<workload name>`. */
  readonly name: string;
  readonly namespace: string;
  readonly labels: Record<string, string>;
  /** Container ports by number, with their names (a policy may name a port). */
  readonly ports: readonly { readonly number: number; readonly name?: string }[];
  /** The pod template's annotations (`prometheus.io/*`). */
  readonly annotations: Record<string, string>;
}

/** The cluster DNS as the default-deny policies address it: kube-system pods labelled k8s-app=kube-dns. */
export const CLUSTER_DNS: PodGroup = { name: 'kube-system/kube-dns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' }, ports: [{ number: 53 }], annotations: {} };

/** Every workload's pods in the manifests, plus the cluster DNS. Objects without a namespace are in `default`. */
export function podGroups(objects: readonly K8sObject[]): PodGroup[] {
  const groups = objects.flatMap((object) => {
    const pod = podOf(object);
    if (!pod) return [];
    const namespace = object.metadata.namespace ?? 'default';
    const template = object.kind === 'Pod' ? object : object.kind === 'CronJob' ? object.spec.jobTemplate.spec.template : object.spec.template;
    const ports = [...(pod.spec.containers ?? []), ...(pod.spec.initContainers ?? [])].flatMap((c: K8sObject) => (c.ports ?? []).map((p: { containerPort: number; name?: string }) => ({ number: p.containerPort, name: p.name })));
    return [{ name: `${namespace}/${object.metadata.name}`, namespace, labels: pod.labels, ports, annotations: template.metadata?.annotations ?? {} }];
  });
  return [...groups, CLUSTER_DNS];
}

/** A connection to check. */
export interface Connection {
  readonly from: PodGroup;
  readonly to: PodGroup;
  readonly port: number;
  /** @default 'TCP' */
  readonly protocol?: 'TCP' | 'UDP';
}

/** Evaluates NetworkPolicies over a set of manifests. */
export class Reachability {
  private readonly policies: K8sObject[];
  private readonly namespaceLabels = new Map<string, Record<string, string>>();

  constructor(objects: readonly K8sObject[]) {
    this.policies = objects.filter((o) => o.kind === 'NetworkPolicy');
    for (const ns of objects.filter((o) => o.kind === 'Namespace')) this.namespaceLabels.set(ns.metadata.name, ns.metadata.labels ?? {});
  }

  /** Whether the policies let `from` open a connection to `to` on `port`. */
  allows({ from, to, port, protocol = 'TCP' }: Connection): boolean {
    return this.side(from, to, port, protocol, 'Egress') && this.side(to, from, port, protocol, 'Ingress');
  }

  /** One direction: `pod` is isolated for it and some policy allows `peer`, or it is not isolated. */
  private side(pod: PodGroup, peer: PodGroup, port: number, protocol: string, type: 'Egress' | 'Ingress'): boolean {
    const applying = this.policies.filter((p) => (p.metadata.namespace ?? 'default') === pod.namespace && policyTypes(p).includes(type) && selects(p.spec.podSelector ?? {}, pod.labels));
    if (applying.length === 0) return true;
    const target = type === 'Egress' ? peer : pod; // ports are the server's
    return applying.some((p) => ((type === 'Egress' ? p.spec.egress : p.spec.ingress) ?? []).some((rule: K8sObject) => {
      const peers = type === 'Egress' ? rule.to : rule.from;
      return portMatches(rule, target, port, protocol) && (!peers?.length || peers.some((candidate: K8sObject) => this.peerMatches(candidate, peer, p.metadata.namespace ?? 'default')));
    }));
  }

  private peerMatches(peer: K8sObject, pod: PodGroup, policyNamespace: string): boolean {
    // Whether an ipBlock covers pod IPs is up to the network plugin: only "everything" counts.
    if (peer.ipBlock) return peer.ipBlock.cidr === '0.0.0.0/0' && !(peer.ipBlock.except ?? []).length;
    const namespaceOk = peer.namespaceSelector
      ? selects(peer.namespaceSelector, { ...this.namespaceLabels.get(pod.namespace), [NAMESPACE_NAME_LABEL]: pod.namespace })
      : pod.namespace === policyNamespace;
    return namespaceOk && selects(peer.podSelector ?? {}, pod.labels);
  }
}

// A policy without policyTypes is Ingress, plus Egress when it has egress rules.
function policyTypes(policy: K8sObject): string[] {
  return policy.spec.policyTypes ?? ['Ingress', ...(policy.spec.egress ? ['Egress'] : [])];
}

// No ports, or an empty list, means every port; a named port is the server's container port of that name.
function portMatches(rule: K8sObject, server: PodGroup, port: number, protocol: string): boolean {
  if (!rule.ports?.length) return true;
  return rule.ports.some((p: { port?: number | string; endPort?: number; protocol?: string }) => {
    if ((p.protocol ?? 'TCP') !== protocol) return false;
    if (p.port === undefined) return true;
    if (typeof p.port === 'string') return server.ports.some((sp) => sp.name === p.port && sp.number === port);
    return p.endPort ? port >= p.port && port <= p.endPort : p.port === port;
  });
}
