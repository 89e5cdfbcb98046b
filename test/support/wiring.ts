// The picture of an app's wiring: its workloads grouped by namespace, with their ports; which
// workload may open a connection to which (client -> server:port); what is exposed (NodePort,
// load balancer, another namespace such as the ingress controller's, anywhere); and what the
// metrics scrapers (Prometheus) scrape. Drawn as a Mermaid flowchart (scripts/pictures.js puts it
// in the READMEs; test/pictures.test.ts fails when a README's picture no longer matches the code).
//
// Source of truth: the synthesized manifests, read by the NetworkPolicy evaluator of the platform
// gate (reachability.ts). The library keeps no list of its connections: lib/core/network.ts turns
// each `allowConnection` into NetworkPolicies (only once a chart declares default-deny) and keeps
// nothing else. The NetworkPolicies are what the cluster enforces, and the evaluator already answers
// "may A connect to B on port p" by the Kubernetes API's rules. So an edge is drawn exactly when the
// policies allow it: a policy added by hand, by a team's own code or by a future construct shows up
// too, and the picture cannot tell a different story than dist/.
import { METRICS_SCRAPER_LABEL } from '../../lib/core/network';
import { podOf, selects } from '../policy/checks';
import { CLUSTER_DNS, PodGroup, Reachability, podGroups } from './reachability';
import { K8sObject } from './synth';

/** What a node of the picture stands for. */
export type WiringNodeKind = 'workload' | 'anywhere' | 'namespace';

export interface WiringNode {
  /** Mermaid id: letters, digits and `_` only. */
  readonly id: string;
  readonly kind: WiringNodeKind;
  /** A workload's namespace (its subgraph). */
  readonly namespace?: string;
  /** The lines of its label. */
  readonly lines: readonly string[];
}

/** connection: a client opens it to a server; exposure: from outside the app; scrape: a metrics scraper on the metrics port. */
export type WiringEdgeKind = 'connection' | 'exposure' | 'scrape';

export interface WiringEdge {
  readonly from: string;
  readonly to: string;
  readonly kind: WiringEdgeKind;
  readonly label: string;
}

export interface Wiring {
  readonly nodes: readonly WiringNode[];
  readonly edges: readonly WiringEdge[];
}

const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';
// A namespace name no cluster can have: a client or server "anywhere" (0.0.0.0/0, or every pod of every namespace).
const ANYWHERE_NAMESPACE = ' anywhere';
const CDK8S_NAME_HASH = /-c8[0-9a-f]{6}$/;

/** The wiring the NetworkPolicies of `objects` allow, with the Services that expose workloads outside the cluster. */
export function wiringOf(objects: readonly K8sObject[]): Wiring {
  const reachability = new Reachability(objects);
  const workloads = podGroups(objects).filter((g) => g !== CLUSTER_DNS).sort((a, b) => a.name.localeCompare(b.name));
  const own = new Set(workloads.map((w) => w.namespace));
  const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
  const rulePorts = [...new Set(policies.flatMap(rulePortsOf))].sort((a, b) => a - b);
  // A port no rule and no container names: allowed there means allowed on every port.
  const everyPortProbe = firstFreePort(new Set([...rulePorts, ...workloads.flatMap((w) => w.ports.map((p) => p.number))]));

  // Outside the app: anywhere, and each other namespace a policy names (an ingress controller's, kube-system).
  const anywhere: PodGroup = { name: 'anywhere', namespace: ANYWHERE_NAMESPACE, labels: {}, ports: [], annotations: {} };
  const namespaces: PodGroup[] = [...new Set(policies.flatMap(namespacesNamedBy))].filter((n) => !own.has(n)).sort().map((namespace) => ({ name: `${namespace}/*`, namespace, labels: {}, ports: [], annotations: {} }));
  const allows = (from: PodGroup, to: PodGroup, port: number) => reachability.allows({ from, to, port });

  const edges: WiringEdge[] = [];
  // An outside group is drawn twice at most: once where clients come from, once where servers are.
  const id = (group: PodGroup, side: 'in' | 'out') => (workloads.includes(group) ? nodeId(group) : nodeId(group, side));
  const add = (from: PodGroup, to: PodGroup, kind: WiringEdgeKind, label: string) => edges.push({ from: id(from, 'in'), to: id(to, 'out'), kind, label });

  for (const server of workloads) {
    const ports = server.ports.map((p) => p.number);
    const metricsPort = server.annotations['prometheus.io/scrape'] === 'true' ? Number(server.annotations['prometheus.io/port']) : undefined;
    for (const client of workloads.filter((w) => w !== server)) {
      // The metrics port too, where no container declares it: Prometheus scrapes it all the same.
      const scraped = client.labels[METRICS_SCRAPER_LABEL] === 'true' ? metricsPort : undefined;
      const allowed = [...new Set([...ports, ...(scraped === undefined ? [] : [scraped])])].filter((port) => allows(client, server, port));
      const connection = allowed.filter((port) => port !== scraped);
      if (connection.length) add(client, server, 'connection', connection.join(', '));
      if (scraped !== undefined && allowed.includes(scraped)) add(client, server, 'scrape', `scrapes ${scraped}`);
    }
    // From outside: anywhere (named after the Services that publish the port), then each other
    // namespace on the ports anywhere does not already reach.
    const fromAnywhere = ports.filter((port) => allows(anywhere, server, port));
    const published = exposingServices(objects, server).filter((s) => ports.includes(s.targetPort));
    for (const port of [...new Set([...fromAnywhere, ...published.map((s) => s.targetPort)])].sort((a, b) => a - b)) {
      const through = published.filter((s) => s.targetPort === port).map((s) => `${s.how} → ${port}`);
      const label = through.length ? through.join(', ') : `${port}`;
      add(anywhere, server, 'exposure', fromAnywhere.includes(port) ? label : `${label}, denied by the NetworkPolicies`);
    }
    for (const client of namespaces) {
      const allowed = ports.filter((port) => !fromAnywhere.includes(port) && allows(client, server, port));
      if (allowed.length) add(client, server, 'exposure', allowed.join(', '));
    }
  }

  // To outside (the API server, kubelets, kube-state-metrics: the policies know them by address or
  // namespace only): every port when a port no rule names is allowed, else the ports the rules name.
  const outsidePorts = (client: PodGroup, server: PodGroup, except: readonly number[]) => (allows(client, server, everyPortProbe) ? 'every' : rulePorts.filter((port) => !except.includes(port) && allows(client, server, port)));
  const portsLabel = (ports: 'every' | number[]) => (ports === 'every' ? 'every port' : ports.join(', '));
  for (const client of workloads) {
    const toAnywhere = outsidePorts(client, anywhere, []);
    if (toAnywhere === 'every' || toAnywhere.length) add(client, anywhere, 'connection', portsLabel(toAnywhere));
    if (toAnywhere === 'every') continue;
    for (const server of namespaces) {
      const allowed = outsidePorts(client, server, toAnywhere);
      if (allowed.length) add(client, server, 'connection', portsLabel(allowed));
    }
  }

  const nodes: WiringNode[] = [
    ...workloads.map((w) => ({ id: nodeId(w), kind: 'workload' as const, namespace: w.namespace, lines: workloadLines(objects, w) })),
    ...[anywhere, ...namespaces].flatMap((o) => (['in', 'out'] as const)
      .filter((side) => edges.some((e) => e[side === 'in' ? 'from' : 'to'] === nodeId(o, side)))
      .map((side) => ({ id: nodeId(o, side), kind: o === anywhere ? 'anywhere' as const : 'namespace' as const, lines: [o === anywhere ? 'anywhere' : `any pod of namespace ${o.namespace}`] }))),
  ];
  return { nodes, edges };
}

/** The wiring as a Mermaid flowchart: a subgraph per namespace; thick edges for exposure, dotted ones for scrapes. */
export function toMermaid(wiring: Wiring): string {
  const lines = ['flowchart LR'];
  const label = (node: WiringNode) => `"${node.lines.map(escapeLabel).join('<br/>')}"`;
  for (const namespace of [...new Set(wiring.nodes.flatMap((n) => (n.namespace ? [n.namespace] : [])))]) {
    lines.push(`  subgraph ${mermaidId(`ns ${namespace}`)}["namespace ${escapeLabel(namespace)}"]`);
    for (const node of wiring.nodes.filter((n) => n.namespace === namespace)) lines.push(`    ${node.id}[${label(node)}]`);
    lines.push('  end');
  }
  for (const node of wiring.nodes.filter((n) => !n.namespace)) lines.push(`  ${node.id}${node.kind === 'anywhere' ? `((${label(node)}))` : `{{${label(node)}}}`}`);
  const arrows: Record<WiringEdgeKind, string> = { connection: '-->', exposure: '==>', scrape: '-.->' };
  for (const edge of wiring.edges) lines.push(`  ${edge.from} ${arrows[edge.kind]}|"${escapeLabel(edge.label)}"| ${edge.to}`);
  // Colours too, and the dots spelled out: some renderers (mermaid 12) draw a long dotted edge solid.
  for (const [kind, style] of Object.entries(EDGE_STYLES)) {
    const indices = wiring.edges.flatMap((edge, i) => (edge.kind === kind ? [i] : []));
    if (indices.length) lines.push(`  linkStyle ${indices.join(',')} ${style}`);
  }
  const outside = wiring.nodes.filter((n) => !n.namespace).map((n) => n.id);
  if (outside.length) lines.push('  classDef outside stroke-dasharray: 4 4', `  class ${outside.join(',')} outside`);
  return `${lines.join('\n')}\n`;
}

const EDGE_STYLES: Partial<Record<WiringEdgeKind, string>> = { exposure: 'stroke:#c05621', scrape: 'stroke:#2b6cb0,stroke-dasharray:4 4' };

/** The README text of a picture: a fenced Mermaid block, between the picture's marker comments. */
export function pictureBlock(key: string, mermaid: string): string {
  return `${startMarker(key)}\n\`\`\`mermaid\n${mermaid}\`\`\`\n${endMarker(key)}`;
}

/** The picture block `key` of a README (markers included), or undefined when it has none. */
export function readmeBlock(readme: string, key: string): string | undefined {
  const start = readme.indexOf(startMarker(key));
  const end = readme.indexOf(endMarker(key), start);
  return start < 0 || end < 0 ? undefined : readme.slice(start, end + endMarker(key).length);
}

/** `readme` with its block `key` replaced by `block`; fails when the README has no markers for it. */
export function withReadmeBlock(readme: string, key: string, block: string): string {
  const current = readmeBlock(readme, key);
  if (current === undefined) throw new Error(`no ${startMarker(key)} ... ${endMarker(key)} markers: add them where the picture goes`);
  return readme.replace(current, () => block);
}

const startMarker = (key: string) => `<!-- wiring:${key}:start -->`;
const endMarker = (key: string) => `<!-- wiring:${key}:end -->`;

/** Mermaid ids: letters, digits and `_` (a `-` or `.` would be read as an edge or a shape). */
function mermaidId(text: string): string {
  return text.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_|_$/g, '');
}

function nodeId(group: PodGroup, side?: 'in' | 'out'): string {
  if (group.namespace === ANYWHERE_NAMESPACE) return `anywhere_${side}`;
  return mermaidId(side ? `any ${group.namespace} ${side}` : `w ${group.name.replace(CDK8S_NAME_HASH, '')}`);
}

// Text inside a quoted Mermaid label: a `"` would end it; `#`, `<` and `>` start entities and HTML.
function escapeLabel(text: string): string {
  return text.replace(/[#"<>]/g, (c) => `#${c.charCodeAt(0)};`);
}

/** A workload's label: its name (without a cdk8s hash), its kind, its container ports (number and name). */
function workloadLines(objects: readonly K8sObject[], group: PodGroup): string[] {
  const name = group.name.slice(group.namespace.length + 1);
  const kind = objects.find((o) => o.metadata.name === name && (o.metadata.namespace ?? 'default') === group.namespace && podOf(o))!.kind;
  const ports = group.ports.map((p) => (p.name ? `${p.number} ${p.name}` : `${p.number}`));
  return [name.replace(CDK8S_NAME_HASH, ''), kind, ...(ports.length ? [ports.join(' · ')] : [])];
}

/** The Services that publish `server` outside the cluster (NodePort, LoadBalancer), by the container port they lead to. */
function exposingServices(objects: readonly K8sObject[], server: PodGroup): { how: string; targetPort: number }[] {
  const services = objects.filter((o) => o.kind === 'Service' && (o.metadata.namespace ?? 'default') === server.namespace
    && ['NodePort', 'LoadBalancer'].includes(o.spec?.type) && o.spec.selector && selects(o.spec.selector, server.labels));
  return services.flatMap((service) => (service.spec.ports ?? []).flatMap((p: { port: number; targetPort?: number | string; nodePort?: number }) => {
    const targetPort = typeof p.targetPort === 'string' ? server.ports.find((c) => c.name === p.targetPort)?.number : p.targetPort ?? p.port;
    const how = service.spec.type === 'NodePort' ? `NodePort ${p.nodePort ?? '(any)'}` : `LoadBalancer ${p.port}`;
    return targetPort === undefined ? [] : [{ how, targetPort }];
  }));
}

/** The numbered ports of a policy's rules. */
function rulePortsOf(policy: K8sObject): number[] {
  return [...(policy.spec.ingress ?? []), ...(policy.spec.egress ?? [])].flatMap((rule: K8sObject) => (rule.ports ?? []).flatMap((p: { port?: number | string }) => (typeof p.port === 'number' ? [p.port] : [])));
}

/** The namespaces a policy's peers name (`kubernetes.io/metadata.name`). */
function namespacesNamedBy(policy: K8sObject): string[] {
  return [...(policy.spec.ingress ?? []).flatMap((r: K8sObject) => r.from ?? []), ...(policy.spec.egress ?? []).flatMap((r: K8sObject) => r.to ?? [])].flatMap((peer: K8sObject) => {
    const selector = peer.namespaceSelector;
    if (!selector) return [];
    const byLabel = selector.matchLabels?.[NAMESPACE_NAME_LABEL];
    const byExpression = (selector.matchExpressions ?? []).filter((e: K8sObject) => e.key === NAMESPACE_NAME_LABEL && e.operator === 'In').flatMap((e: K8sObject) => e.values);
    return [...(byLabel ? [byLabel] : []), ...byExpression];
  });
}

function firstFreePort(taken: ReadonlySet<number>): number {
  let port = 65535;
  while (taken.has(port)) port -= 1;
  return port;
}

/** A picture as a README should hold it. */
export interface Picture {
  /** The README's path from the repository's root. */
  readonly readme: string;
  readonly key: string;
  readonly block: string;
}

/** One line per picture whose README block differs from `pictures` (none: the READMEs match the code). */
export function stalePictures(readmes: ReadonlyMap<string, string>, pictures: readonly Picture[]): string[] {
  return pictures.flatMap(({ readme, key, block }) => {
    const current = readmeBlock(readmes.get(readme) ?? '', key);
    if (current === block) return [];
    const what = current === undefined ? `has no ${startMarker(key)} ... ${endMarker(key)} markers: add them where the picture goes, then` : 'differs from the code:';
    return [`${readme}: the wiring picture of ${key} ${what} run \`npm run pictures\` and commit ${readme}`];
  });
}
