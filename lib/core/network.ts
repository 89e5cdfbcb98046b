import { ApiObject, Chart, JsonPatch, Lazy } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct, IConstruct } from 'constructs';
import { constructName } from './names';

/**
 * NetworkPolicies generated from the wiring, named `<workload>-ingress-from-<peer>` and
 * `<workload>-egress-to-<peer>` in every chart (no cdk8s hash). The model, for every chart under any App:
 *
 * - A chart that declares default-deny (`denyAllTrafficExceptDns(chart)`; every EnvironmentChart
 *   does) isolates its pods, and each construct then allows exactly the connections it makes
 *   (Grafana to Prometheus, NGINX to the router and its backends, the router to Redis, Prometheus
 *   to scrape targets), named after what they allow: `<workload>-ingress-from-<peer>`,
 *   `<workload>-egress-to-<peer>`.
 * - A chart that does not declare it gets no NetworkPolicy from the library at all: a policy
 *   that selects a pod isolates it, so a lone "allow the scrapers" policy would make scrapers its
 *   only clients, and a lone egress policy would cut DNS. Its pods keep Kubernetes' default (all
 *   traffic allowed) until the team declares default-deny; then every connection recorded so far
 *   gets its policies, whatever the order of the calls.
 *
 * Why not cdk8s-plus's `connections.allowTo/allowFrom`: they isolate the pods they touch whatever
 * the chart declares (the second bullet's trap), and name each policy after the peer's construct
 * address (`allowegressc8f3...`), which a reviewer cannot read in a pull request and which changes
 * when an unrelated id moves.
 */

/** Pod label of the workloads that scrape metrics (Prometheus): scraped pods accept them on their metrics port. */
export const METRICS_SCRAPER_LABEL = 'platform-stack.io/metrics-scraper';

/** The connections of one chart, made into policies only once the chart declares default-deny. */
interface ChartNetwork {
  isolated: boolean;
  readonly pending: (() => void)[];
  /** Namespaces whose Prometheus may scrape this chart's pods; undefined: the chart's own. */
  scraperNamespaces?: readonly string[];
}

const networks = new WeakMap<Chart, ChartNetwork>();

function networkOf(scope: IConstruct): ChartNetwork {
  const chart = Chart.of(scope);
  let network = networks.get(chart);
  if (!network) {
    network = { isolated: false, pending: [] };
    networks.set(chart, network);
  }
  return network;
}

/** Runs `create` now if the chart of `scope` is isolated, else when it declares default-deny. */
function whenIsolated(scope: IConstruct, create: () => void): void {
  const network = networkOf(scope);
  if (network.isolated) create();
  else network.pending.push(create);
}

/** True when the chart of `scope` declared default-deny. */
export function isIsolated(scope: IConstruct): boolean {
  return networkOf(scope).isolated;
}

/** A TCP port list as NetworkPolicy ports. */
function tcp(ports: readonly number[]): kplus.NetworkPolicyPort[] {
  return ports.map((port) => kplus.NetworkPolicyPort.tcp(port));
}

/** The cluster's DNS pods (CoreDNS and kube-dns both carry this label), which every isolated pod may ask. */
const CLUSTER_DNS = { labels: { 'k8s-app': 'kube-dns' }, namespace: 'kube-system', port: 53 } as const;

/**
 * Declares default-deny for the chart of `scope`: every pod of its namespace is isolated for
 * ingress and egress, except DNS egress to the cluster DNS (kube-system pods labelled
 * k8s-app=kube-dns, as CoreDNS and kube-dns are). The library's constructs in this chart then
 * get their allow policies, those added before this call included. Once per chart.
 */
export function denyAllTrafficExceptDns(scope: Construct): void {
  const network = networkOf(scope);
  if (network.isolated) return;
  const allPods = kplus.Pods.all(scope, 'all-pods');
  new kplus.NetworkPolicy(scope, 'deny-all', {
    metadata: { name: constructName(scope, 'deny-all') },
    selector: allPods,
    ingress: { default: kplus.NetworkPolicyTrafficDefault.DENY },
    egress: { default: kplus.NetworkPolicyTrafficDefault.DENY },
  });
  const clusterDns = kplus.Pods.select(scope, 'cluster-dns', {
    labels: CLUSTER_DNS.labels,
    namespaces: kplus.Namespaces.select(scope, CLUSTER_DNS.namespace, { names: [CLUSTER_DNS.namespace] }),
  });
  new kplus.NetworkPolicy(scope, 'allow-dns', {
    metadata: { name: constructName(scope, 'allow-dns') },
    selector: allPods,
    egress: { rules: [{ peer: clusterDns, ports: [kplus.NetworkPolicyPort.udp(CLUSTER_DNS.port), kplus.NetworkPolicyPort.tcp(CLUSTER_DNS.port)] }] },
  });
  network.isolated = true;
  for (const create of network.pending.splice(0)) create();
}

type Peers = kplus.INetworkPolicyPeer | readonly kplus.INetworkPolicyPeer[] | (() => kplus.INetworkPolicyPeer | readonly kplus.INetworkPolicyPeer[]);

/** Lets `workload` accept connections from `peers` on `ports` (all ports when empty), in an isolated chart. */
export function allowIngress(workload: kplus.Workload, peerName: string, peers: Peers, ports: readonly number[]): void {
  allow(workload, 'ingress', `ingress-from-${peerName}`, peers, ports);
}

/** Lets `workload` open connections to `peers` on `ports` (all ports when empty), in an isolated chart. */
export function allowEgress(workload: kplus.Workload, peerName: string, peers: Peers, ports: readonly number[]): void {
  allow(workload, 'egress', `egress-to-${peerName}`, peers, ports);
}

/** One policy of `workload` for one direction, named (and given the id) `id`, once the chart is isolated. */
function allow(workload: kplus.Workload, direction: 'ingress' | 'egress', id: string, peers: Peers, ports: readonly number[]): void {
  whenIsolated(workload, () => {
    const rules = [typeof peers === 'function' ? peers() : peers].flat().map((peer) => ({ peer, ports: ports.length ? tcp(ports) : undefined }));
    const policy = new kplus.NetworkPolicy(workload, id, { metadata: { name: constructName(workload, id) }, selector: workload, [direction]: { rules } });
    if (!ports.length) withoutEmptyPorts(policy, direction, rules.length);
  });
}

/**
 * cdk8s-plus writes `ports: []` for "all ports"; the API server stores no field for an empty list,
 * so every server-side apply would change the object again (a GitOps tool shows it drifting).
 */
function withoutEmptyPorts(policy: kplus.NetworkPolicy, direction: 'ingress' | 'egress', rules: number): void {
  for (let i = 0; i < rules; i++) ApiObject.of(policy).addJsonPatch(JsonPatch.remove(`/spec/${direction}/${i}/ports`));
}

/**
 * Lets `from` connect to `to` on `ports`: an egress policy on `from` where its chart is isolated,
 * an ingress policy on `to` where its chart is (the two may be different teams' charts).
 */
export function allowConnection(from: kplus.Workload, to: kplus.Workload, ports: readonly number[], names: { readonly from?: string; readonly to?: string } = {}): void {
  allowEgress(from, names.to ?? peerName(to, from), to, ports);
  allowIngress(to, names.from ?? peerName(from, to), from, ports);
}

/**
 * The name of `peer` in the policies of `workload`: its owner's id, prefixed by its chart's id
 * when it is in another chart (two teams' charts may both have a `grafana` on one Prometheus).
 */
function peerName(peer: kplus.Workload, workload: kplus.Workload): string {
  const chart = Chart.of(peer);
  return chart === Chart.of(workload) ? ownerName(peer) : `${chart.node.id}-${ownerName(peer)}`;
}

/**
 * Lets the pods of `workload` reach each other on `port`, TCP and UDP (cluster gossip: Alertmanager
 * peers), in an isolated chart: one policy, both directions.
 */
export function allowWithinWorkload(workload: kplus.Workload, peerName: string, port: number): void {
  whenIsolated(workload, () => {
    const rules = [{ peer: workload, ports: [kplus.NetworkPolicyPort.tcp(port), kplus.NetworkPolicyPort.udp(port)] }];
    new kplus.NetworkPolicy(workload, `within-${peerName}`, { metadata: { name: constructName(workload, `within-${peerName}`) }, selector: workload, ingress: { rules }, egress: { rules } });
  });
}

/** Lets anyone (in or outside the cluster: NodePort, LoadBalancer and ingress traffic) reach `workload` on `ports`. */
export function allowIngressFromAnywhere(workload: kplus.Workload, ports: readonly number[]): void {
  allowIngress(workload, 'anywhere', () => everyAddress(workload, 'anywhere-ingress'), ports);
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

/**
 * Sets the namespaces whose Prometheus may scrape the pods of the chart of `scope` (a Prometheus
 * shared by several teams, in its own namespace). Call it before `denyAllTrafficExceptDns`.
 * @default - the chart's own namespace: only its own Prometheus
 */
export function setMetricsScraperNamespaces(scope: IConstruct, namespaces: readonly string[]): void {
  const network = networkOf(scope);
  if (network.isolated) throw new Error(`setMetricsScraperNamespaces('${Chart.of(scope).node.path}'): call it before denyAllTrafficExceptDns (the scrapers' policies are written then)`);
  network.scraperNamespaces = [...namespaces];
}

/** The namespaces whose Prometheus may scrape the pods of the chart of `scope` (see setMetricsScraperNamespaces). */
export function metricsScraperNamespaces(scope: IConstruct): string[] {
  return [...(networkOf(scope).scraperNamespaces ?? [namespaceOf(scope)])];
}

/**
 * Isolates the pods `podSelector` selects in `namespace` (another namespace than the chart's, such
 * as node-exporter's own) when the chart of `scope` declares default-deny: DNS egress to the
 * cluster DNS, and ingress from the chart's metrics scrapers on `port`; nothing else.
 */
export function allowOnlyScrapersInNamespace(scope: Construct, namespace: string, podSelector: Readonly<Record<string, string>>, port: number): void {
  whenIsolated(scope, () => {
    const id = 'only-metrics-scrapers';
    new ApiObject(scope, id, {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: constructName(scope, id), namespace },
      spec: {
        podSelector: { matchLabels: { ...podSelector } },
        policyTypes: ['Ingress', 'Egress'],
        ingress: Lazy.any({
          produce: () => [{
            from: [{
              podSelector: { matchLabels: { [METRICS_SCRAPER_LABEL]: 'true' } },
              namespaceSelector: { matchExpressions: [{ key: kplus.Namespace.NAME_LABEL, operator: 'In', values: metricsScraperNamespaces(scope) }] },
            }],
            ports: [{ protocol: 'TCP', port }],
          }],
        }),
        egress: [{
          to: [{ podSelector: { matchLabels: { ...CLUSTER_DNS.labels } }, namespaceSelector: { matchLabels: { [kplus.Namespace.NAME_LABEL]: CLUSTER_DNS.namespace } } }],
          ports: [{ protocol: 'UDP', port: CLUSTER_DNS.port }, { protocol: 'TCP', port: CLUSTER_DNS.port }],
        }],
      },
    });
  });
}

/** The namespace of the chart of `scope` (`default` when the chart sets none). */
function namespaceOf(scope: IConstruct): string {
  return Chart.of(scope).namespace ?? 'default';
}

/** A workload marked for scraping: its namespace, its pods and its metrics port. */
interface ScrapedWorkload {
  readonly namespace: string;
  readonly workload: kplus.Workload;
  readonly port: number;
}

/**
 * The workloads marked for scraping, per App (charts of one app share it): Prometheus's egress
 * opens each on its metrics port, read at synth so that workloads marked after it count.
 */
const scrapedByApp = new WeakMap<IConstruct, ScrapedWorkload[]>();

function scrapedWorkloads(scope: IConstruct): ScrapedWorkload[] {
  const app = scope.node.root;
  let scraped = scrapedByApp.get(app);
  if (!scraped) {
    scraped = [];
    scrapedByApp.set(app, scraped);
  }
  return scraped;
}

/**
 * Lets the Prometheus wired to scrape `workload` reach it on its metrics port: pods labelled as
 * metrics scrapers in the scraper namespaces of its chart (its own namespace unless
 * `setMetricsScraperNamespaces` says otherwise), never a scraper label in just any namespace.
 * Records the workload and port for the egress of the Prometheus of this app that scrapes its
 * namespace (whether or not this chart is isolated: the Prometheus's may be).
 */
export function allowMetricsScrapers(workload: kplus.Workload, port: number): void {
  scrapedWorkloads(workload).push({ namespace: namespaceOf(workload), workload, port });
  allowIngress(workload, 'metrics-scrapers', () => {
    const names = metricsScraperNamespaces(workload);
    return kplus.Pods.select(workload, 'metrics-scrapers', {
      labels: { [METRICS_SCRAPER_LABEL]: 'true' },
      namespaces: kplus.Namespaces.select(workload, 'scraper-namespaces', { names }),
    });
  }, [port]);
}

/**
 * Prometheus's egress: the API server and the kubelets on their ports, and in each namespace it
 * scrapes, each workload marked there in this app on its metrics port (`markForScraping`, read at
 * synth), plus every pod of the namespace on `otherPorts` (targets this app does not mark: another
 * app's workloads, Services annotated by hand); every pod on any port where neither names one (a
 * team namespace of another app, without `otherPorts`). The API server and the kubelets are not
 * pods: a NetworkPolicy can name them only by IP block, so they are any address on 443/6443 (API
 * server) and 10250 (kubelet).
 */
export function allowScraperEgress(workload: kplus.Workload, scrapeNamespaces: readonly string[], extraTargets: readonly { readonly namespace?: string; readonly port: number }[] = [], otherPorts: readonly number[] = []): void {
  whenIsolated(workload, () => {
    const id = 'egress-to-scrape-namespaces';
    // A plain ApiObject: a cdk8s-plus rule is fixed when it is added, these are known only at synth.
    new ApiObject(workload, id, {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: constructName(workload, id) },
      spec: {
        podSelector: { matchLabels: workload.matchLabels },
        policyTypes: ['Egress'],
        // concat, not flatMap: V8 makes flatMap's arrays holey, and the first holey array among the
        // packed ones of a synth makes V8 compile cdk8s's resolve() again (4% of a synth's instructions).
        egress: Lazy.any({ produce: () => ([] as Record<string, unknown>[]).concat(...scrapeNamespaces.map((namespace) => scrapeRules(namespace, scrapedWorkloads(workload).filter((s) => s.namespace === namespace), otherPorts))) }),
      },
    });
  });
  allowEgress(workload, 'kubernetes-api', () => kplus.NetworkPolicyIpBlock.anyIpv4(workload, 'kubernetes-api-ips'), [443, 6443]);
  allowEgress(workload, 'kubelets', () => kplus.NetworkPolicyIpBlock.anyIpv4(workload, 'kubelet-ips'), [10250]);
  // A fixed target: the pods of its namespace on its port, or any address on its port when only an address is known.
  extraTargets.forEach((target, i) => allowEgress(workload, `target-${i}`, () => (target.namespace
    ? kplus.Pods.all(workload, `target-${i}-pods`, { namespaces: kplus.Namespaces.select(workload, `target-${i}-namespace`, { names: [target.namespace] }) })
    : kplus.NetworkPolicyIpBlock.anyIpv4(workload, `target-${i}-ips`)), [target.port]));
}

/**
 * The egress rules to one scrape namespace, in a stable order (by port, then pod labels): one per
 * marked workload, its pods on its port; then every pod on `otherPorts` (sorted), or on every
 * port, without a ports field (an empty list would drift, see withoutEmptyPorts), when nothing
 * is marked there and no other port is given.
 */
function scrapeRules(namespace: string, scraped: readonly ScrapedWorkload[], otherPorts: readonly number[]): Record<string, unknown>[] {
  const namespaceSelector = { matchLabels: { [kplus.Namespace.NAME_LABEL]: namespace } };
  const tcpPorts = (ports: readonly number[]) => [...new Set(ports)].sort((a, b) => a - b).map((port) => ({ port, protocol: 'TCP' }));
  const rules = scraped
    .map((s) => ({ to: [{ namespaceSelector, podSelector: { matchLabels: s.workload.matchLabels } }], ports: tcpPorts([s.port]) }))
    .sort((a, b) => a.ports[0].port - b.ports[0].port || JSON.stringify(a.to).localeCompare(JSON.stringify(b.to)));
  const everyPod = [{ namespaceSelector, podSelector: {} }];
  if (otherPorts.length) return [...rules, { to: everyPod, ports: tcpPorts(otherPorts) }];
  return rules.length ? rules : [{ to: everyPod }];
}

/** Lets `workload` open connections anywhere. */
export function allowEgressToAnywhere(workload: kplus.Workload, ports: readonly number[] = []): void {
  allowEgress(workload, 'anywhere', () => everyAddress(workload, 'anywhere-egress'), ports);
}

/**
 * A short name for a workload in policy names: the id of the library construct that owns it
 * (`prometheus`, `redis`, `echo`), or the workload's own id when it stands alone in a chart.
 */
export function ownerName(workload: kplus.Workload): string {
  const owner = workload.node.scope;
  return owner && !Chart.isChart(owner) ? owner.node.id : workload.node.id;
}
