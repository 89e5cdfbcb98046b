import * as kplus from 'cdk8s-plus-27';

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
 * annotations it keys on. Works for any cdk8s-plus workload, including other teams'.
 */
export function markForScraping(workload: kplus.Workload, target: ScrapeTarget): void {
  workload.podMetadata.addAnnotation('prometheus.io/scrape', 'true');
  workload.podMetadata.addAnnotation('prometheus.io/port', String(target.port));
  workload.podMetadata.addAnnotation('prometheus.io/path', target.path ?? '/metrics');
}
