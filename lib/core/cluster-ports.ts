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
  for (const other of chart.node.root.node.findAll()) {
    if (!Chart.isChart(other) || clusterOfChart.get(other) !== cluster) continue;
    for (const claim of portClaims(other)) {
      const earlier = first.get(claim.port);
      if (!earlier) first.set(claim.port, claim);
      else if (other === chart) problems.push(collision(claim, earlier, cluster));
    }
    // Charts after this one report their own collisions.
    if (other === chart) break;
  }
  return problems;
}

/** The node ports of the chart's Services and the host ports of its pods (a pod on the host's network listens on its container ports). */
function portClaims(chart: Chart): PortClaim[] {
  const claims: PortClaim[] = [];
  for (const construct of chart.node.findAll()) {
    if (Chart.of(construct) !== chart) continue;
    if (construct instanceof kplus.Service) {
      for (const port of construct.ports) if (port.nodePort !== undefined) claims.push({ port: `node port ${port.nodePort}`, owner: construct });
    }
    if (construct instanceof kplus.AbstractPod) {
      for (const container of [...construct.initContainers, ...construct.containers]) {
        for (const port of container.ports) {
          const hostPort = port.hostPort ?? (construct.hostNetwork ? port.number : undefined);
          if (hostPort !== undefined) claims.push({ port: `host port ${hostPort}/${port.protocol ?? kplus.Protocol.TCP}`, owner: construct });
        }
      }
    }
  }
  return claims;
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
