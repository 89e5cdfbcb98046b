import * as kplus from 'cdk8s-plus-27';
import { allowMetricsScrapers } from './network';
import { PropValidator } from './validation';

/** Where Prometheus finds a workload's metrics. */
export interface ScrapeTarget {
  /** Container port that serves metrics. */
  readonly port: number;
  /**
   * HTTP path of the metrics.
   * @default '/metrics'
   */
  readonly path?: string;
}

/**
 * Marks a workload's pods for the `kubernetes-pods` scrape job, by the `prometheus.io/*`
 * annotations it keys on, and, where the chart declares default-deny, lets Prometheus through it on
 * that port (in a chart without default-deny no policy is written: one would make the scrapers the
 * pod's only clients). Works for any cdk8s-plus workload, including other teams'. The port must be
 * one a container declares: add the containers first.
 *
 * A pod has one set of annotations, so it is scraped on one port: marking it again with another
 * port or path fails rather than silently replacing the first (put two exporters of one pod
 * behind one port, or scrape the second through a ServiceMonitor or a scrape job).
 */
export function markForScraping(workload: kplus.Workload, target: ScrapeTarget): void {
  const path = target.path ?? '/metrics';
  const v = new PropValidator(workload, 'markForScraping');
  const portOk = v.port('port', target.port);
  v.check(typeof path === 'string' && /^\/\S*$/.test(path), 'path', path, 'an absolute HTTP path starting with /');
  const declared = workload.containers.flatMap((c) => c.ports.map((p) => p.number));
  if (portOk) {
    v.check(declared.includes(target.port), 'port', target.port, declared.length > 0 ? `a port a container of the workload declares (${[...new Set(declared)].join('|')})` : 'a port a container of the workload declares (it declares none: add the containers and their ports first)');
  }
  const existing = workload.podMetadata.toJson().annotations ?? {};
  if (existing['prometheus.io/scrape'] === 'true') {
    const before = `${existing['prometheus.io/port']}${existing['prometheus.io/path']}`;
    v.check(before === `${target.port}${path}`, 'port and path', `${target.port}${path}`, `the ones the workload is already marked with (${existing['prometheus.io/port']}${existing['prometheus.io/path']}): a pod is scraped on one port`);
  }
  v.throwIfInvalid();
  workload.podMetadata.addAnnotation('prometheus.io/scrape', 'true');
  workload.podMetadata.addAnnotation('prometheus.io/port', String(target.port));
  workload.podMetadata.addAnnotation('prometheus.io/path', path);
  // Only once per workload: a second mark with the same target changes nothing.
  if (existing['prometheus.io/scrape'] !== 'true') allowMetricsScrapers(workload, target.port);
}
