import { ApiObject } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { addMonitoring, shippedDashboard } from '../core/monitoring';
import { markForScraping } from '../core/scraping';
import { PropValidator } from '../core/validation';

/** Name of the pprof container port, as `kubectl port-forward` and the exposure check know it. */
export const PPROF_PORT_NAME = 'pprof';

/** Options of `monitorGoService`. */
export interface GoServiceMonitoringOptions {
  /** Container port serving Prometheus metrics (promhttp), on its own ServeMux. */
  readonly metricsPort: number;
  /**
   * HTTP path of the metrics.
   * @default '/metrics'
   */
  readonly metricsPath?: string;
  /**
   * Container port of net/http/pprof, which the service binds to 127.0.0.1.
   * @default 6060
   */
  readonly pprofPort?: number;
  /**
   * The container running the Go binary.
   * @default - the workload's first container
   */
  readonly container?: kplus.Container;
}

/** What `monitorGoService` set up. */
export interface GoServiceMonitoring {
  /** The private pprof port. */
  readonly pprofPort: number;
  /** The command that reaches pprof from a workstation, e.g. `kubectl -n platform-dev port-forward deployment/dev-api 6060:6060`. */
  readonly portForwardCommand: string;
}

/**
 * Monitoring for a Go service (the seed's pprof post): its pods are scraped for metrics (Go runtime
 * `go_*` series included), and its pprof port is declared on the container, named `pprof`, for
 * `kubectl port-forward` only. Synthesis fails if any Service selects the pods on that port, so it
 * can never be reached through a NodePort, a LoadBalancer, an Ingress or the NGINX router (which
 * only proxies to Services).
 */
export function monitorGoService(workload: kplus.Workload, options: GoServiceMonitoringOptions): GoServiceMonitoring {
  const pprofPort = options.pprofPort ?? 6060;
  const container = options.container ?? workload.containers[0];
  const v = new PropValidator(workload, 'monitorGoService');
  v.port('pprofPort', pprofPort);
  v.check(pprofPort !== options.metricsPort, 'pprofPort', pprofPort, `a port other than metricsPort (${options.metricsPort}): Prometheus reaches the metrics port from the whole cluster`);
  v.check(container !== undefined, 'container', container, 'a container of the workload (it has none yet)');
  for (const port of container?.ports ?? []) {
    if (port.number === pprofPort) v.check(port.name === PPROF_PORT_NAME, 'pprofPort', pprofPort, `a port not already declared as '${port.name}'`);
  }
  v.throwIfInvalid();

  markForScraping(workload, { port: options.metricsPort, path: options.metricsPath });
  // The Go runtime dashboard, in the Grafana of its chart (once, however many Go services).
  addMonitoring(workload, { dashboards: [shippedDashboard('platform/go-runtime.json')] });
  if (!container!.ports.some((port) => port.number === pprofPort)) container!.addPort({ number: pprofPort, name: PPROF_PORT_NAME });
  workload.node.addValidation({ validate: () => pprofExposures(workload, pprofPort) });

  const object = ApiObject.of(workload);
  const namespace = object.metadata.namespace ? `-n ${object.metadata.namespace} ` : '';
  return { pprofPort, portForwardCommand: `kubectl ${namespace}port-forward ${object.kind.toLowerCase()}/${object.name} ${pprofPort}:${pprofPort}` };
}

/** Every Service of the app that would route to the workload's pprof port, as an error each. */
function pprofExposures(workload: kplus.Workload, pprofPort: number): string[] {
  const pod = ApiObject.of(workload).toJson();
  const podLabels: Record<string, string> = pod.spec?.template?.metadata?.labels ?? {};
  const problems: string[] = [];
  for (const construct of workload.node.root.node.findAll()) {
    if (!(construct instanceof kplus.Service)) continue;
    const service = ApiObject.of(construct).toJson();
    const selector: Record<string, string> = service.spec?.selector ?? {};
    const selects = Object.keys(selector).length > 0 && Object.entries(selector).every(([key, value]) => podLabels[key] === value);
    if (!selects || service.metadata?.namespace !== pod.metadata?.namespace) continue;
    for (const port of service.spec?.ports ?? []) {
      const target = port.targetPort ?? port.port;
      if (target === pprofPort || target === PPROF_PORT_NAME) {
        problems.push(`pprof port ${pprofPort} is exposed by ${service.spec?.type ?? 'ClusterIP'} Service '${service.metadata?.name}' (port ${port.port}): pprof must only be reached with kubectl port-forward`);
      }
    }
  }
  return problems;
}
