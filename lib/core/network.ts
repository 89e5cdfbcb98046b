import { ApiObject, Chart, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';

/**
 * NetworkPolicies generated from the wiring: the chart denies all traffic in its namespace, and
 * each construct allows exactly the connections it makes (Grafana to Prometheus, NGINX to the
 * router, the router to Redis, ...). Policies are named after what they allow:
 * `<workload>-ingress-from-<peer>`, `<workload>-egress-to-<peer>`.
 */

/** Pod label of the workloads that scrape metrics (Prometheus): scraped pods accept them on their metrics port. */
export const METRICS_SCRAPER_LABEL = 'platform-stack.io/metrics-scraper';

/** A TCP port list as NetworkPolicy ports. */
function tcp(ports: readonly number[]): kplus.NetworkPolicyPort[] {
  return ports.map((port) => kplus.NetworkPolicyPort.tcp(port));
}

/**
 * Default deny for every pod of the scope's namespace, ingress and egress, plus DNS egress to the
 * cluster DNS (kube-system pods labelled k8s-app=kube-dns, as CoreDNS and kube-dns are).
 */
export function denyAllTrafficExceptDns(scope: Construct): void {
  const allPods = kplus.Pods.all(scope, 'all-pods');
  new kplus.NetworkPolicy(scope, 'deny-all', {
    selector: allPods,
    ingress: { default: kplus.NetworkPolicyTrafficDefault.DENY },
    egress: { default: kplus.NetworkPolicyTrafficDefault.DENY },
  });
  const clusterDns = kplus.Pods.select(scope, 'cluster-dns', {
    labels: { 'k8s-app': 'kube-dns' },
    namespaces: kplus.Namespaces.select(scope, 'kube-system', { names: ['kube-system'] }),
  });
  new kplus.NetworkPolicy(scope, 'allow-dns', {
    selector: allPods,
    egress: { rules: [{ peer: clusterDns, ports: [kplus.NetworkPolicyPort.udp(53), kplus.NetworkPolicyPort.tcp(53)] }] },
  });
}

/** Lets `workload` accept connections from `peer` on `ports` (all ports when empty). */
export function allowIngress(workload: kplus.Workload, peerName: string, peers: kplus.INetworkPolicyPeer | readonly kplus.INetworkPolicyPeer[], ports: readonly number[]): kplus.NetworkPolicy {
  const rules = [peers].flat().map((peer) => ({ peer, ports: ports.length ? tcp(ports) : undefined }));
  return withoutEmptyPorts(new kplus.NetworkPolicy(workload, `ingress-from-${peerName}`, { selector: workload, ingress: { rules } }), 'ingress', rules.length, ports);
}

/**
 * cdk8s-plus writes `ports: []` for "all ports"; the API server stores no field for an empty list,
 * so every server-side apply would change the object again (a GitOps tool shows it drifting).
 */
function withoutEmptyPorts(policy: kplus.NetworkPolicy, direction: 'ingress' | 'egress', rules: number, ports: readonly number[]): kplus.NetworkPolicy {
  if (ports.length) return policy;
  for (let i = 0; i < rules; i++) ApiObject.of(policy).addJsonPatch(JsonPatch.remove(`/spec/${direction}/${i}/ports`));
  return policy;
}

/** Lets `workload` open connections to `peer` on `ports` (all ports when empty). */
export function allowEgress(workload: kplus.Workload, peerName: string, peers: kplus.INetworkPolicyPeer | readonly kplus.INetworkPolicyPeer[], ports: readonly number[]): kplus.NetworkPolicy {
  const rules = [peers].flat().map((peer) => ({ peer, ports: ports.length ? tcp(ports) : undefined }));
  return withoutEmptyPorts(new kplus.NetworkPolicy(workload, `egress-to-${peerName}`, { selector: workload, egress: { rules } }), 'egress', rules.length, ports);
}

/** Lets `from` connect to `to` on `ports`: an egress policy on one side, an ingress policy on the other. */
export function allowConnection(from: kplus.Workload, to: kplus.Workload, ports: readonly number[]): void {
  allowEgress(from, peerName(to), to, ports);
  allowIngress(to, peerName(from), from, ports);
}

/** Lets anyone (in or outside the cluster: NodePort, LoadBalancer and ingress traffic) reach `workload` on `ports`. */
export function allowIngressFromAnywhere(workload: kplus.Workload, ports: readonly number[]): void {
  allowIngress(workload, 'anywhere', everyAddress(workload, 'anywhere-ingress'), ports);
}

/**
 * Every address: 0.0.0.0/0, and every pod of every namespace spelled out, since whether an ipBlock
 * covers pod IPs is up to the network plugin (Cilium's does not).
 */
export function everyAddress(workload: kplus.Workload, id: string): kplus.INetworkPolicyPeer[] {
  return [
    kplus.NetworkPolicyIpBlock.anyIpv4(workload, id),
    kplus.Pods.all(workload, `${id}-pods`, { namespaces: kplus.Namespaces.all(workload, `${id}-namespaces`) }),
  ];
}

/** Lets pods labelled as metrics scrapers, in any namespace, reach `workload` on its metrics port. */
export function allowMetricsScrapers(workload: kplus.Workload, port: number): void {
  const scrapers = kplus.Pods.select(workload, 'metrics-scrapers', {
    labels: { [METRICS_SCRAPER_LABEL]: 'true' },
    namespaces: kplus.Namespaces.all(workload, 'all-namespaces'),
  });
  allowIngress(workload, 'metrics-scrapers', scrapers, [port]);
}

/** Lets `workload` open connections anywhere (Prometheus: scrape targets in any namespace, nodes, the API server). */
export function allowEgressToAnywhere(workload: kplus.Workload, ports: readonly number[] = []): void {
  allowEgress(workload, 'anywhere', everyAddress(workload, 'anywhere-egress'), ports);
}

/** A short name for a peer in policy names: the id of the system construct that owns it (`prometheus`, `redis`). */
function peerName(workload: kplus.Workload): string {
  const owner = workload.node.scope;
  return owner && !Chart.isChart(owner) ? owner.node.id : workload.node.id;
}
