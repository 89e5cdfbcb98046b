import { ApiObject, Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { IConstruct } from 'constructs';

/**
 * Ports a cluster gives out once. A node port goes to one Service of the cluster (the API server
 * refuses a second Service asking for it), and a host port to one pod per node (a second
 * DaemonSet's pods would stay Pending on every node, node-exporter's :9100 for one). Environments of
 * one app that name the same cluster are checked together at synth; each collision is reported by
 * the chart that comes later in the app.
 */

const clusterOfChart = new WeakMap<Chart, string>();

/** Makes the synth refuse a node port or host port of `chart` that an earlier chart of `cluster` in its app, or `chart` itself, already takes. */
export function checkClusterPorts(chart: Chart, cluster: string): void {
  if (clusterOfChart.has(chart)) return;
  clusterOfChart.set(chart, cluster);
  chart.node.addValidation({ validate: () => portCollisions(chart, cluster) });
}

interface PortClaim {
  /** `node port 30080` or `host port 9100/TCP`. */
  readonly port: string;
  readonly owner: IConstruct;
}

function portCollisions(chart: Chart, cluster: string): string[] {
  const first = new Map<string, PortClaim>();
  const problems: string[] = [];
  // One walk of the app, charts in order (as nameCollisions in names.ts): each claim of a chart of this cluster.
  for (const construct of chart.node.root.node.findAll()) {
    const ports = portsClaimed(construct);
    if (ports.length === 0) continue;
    const owner = Chart.of(construct);
    if (clusterOfChart.get(owner) !== cluster) continue;
    for (const port of ports) {
      const earlier = first.get(port);
      if (!earlier) first.set(port, { port, owner: construct });
      else if (owner === chart) problems.push(collision({ port, owner: construct }, earlier, cluster));
    }
  }
  return problems;
}

/** The node ports of a Service, or the host ports of a pod (a pod on the host's network listens on its container ports). */
function portsClaimed(construct: IConstruct): string[] {
  if (construct instanceof kplus.Service) return construct.ports.flatMap((port) => (port.nodePort === undefined ? [] : [`node port ${port.nodePort}`]));
  if (!(construct instanceof kplus.AbstractPod)) return [];
  return [...construct.initContainers, ...construct.containers].flatMap((container) => container.ports.flatMap((port) => {
    const hostPort = port.hostPort ?? (construct.hostNetwork ? port.number : undefined);
    return hostPort === undefined ? [] : [`host port ${hostPort}/${port.protocol ?? kplus.Protocol.TCP}`];
  }));
}

function describe(construct: IConstruct): string {
  const object = ApiObject.of(construct);
  return `${object.kind} '${object.name}' (${construct.node.path})`;
}

function collision(claim: PortClaim, earlier: PortClaim, cluster: string): string {
  const where = `${claim.port} of ${describe(claim.owner)} is already taken by ${describe(earlier.owner)} in cluster '${cluster}'`;
  const fix = 'or put the environments in different clusters (EnvironmentConfig.cluster, default: the environment\'s name)';
  if (claim.port.startsWith('node port')) {
    return `${where}: the API server gives a node port to one Service of a cluster. Give one of them another (ServiceExposure.nodePort(n), n in 30000-32767, or none to let Kubernetes pick), ${fix}`;
  }
  return `${where}: two pods cannot listen on one port of a node, so one of them would stay Pending wherever the other runs. Keep one (node-exporter is one per cluster: nodeExporter: false in the other environments), ${fix}`;
}
