import { createHash } from 'crypto';
import * as kplus from 'cdk8s-plus-27';

/** A short, stable digest of config content. */
export function contentHash(...contents: string[]): string {
  const hash = createHash('sha256');
  for (const content of contents) hash.update(content).update('\0');
  return hash.digest('hex').slice(0, 16);
}

/**
 * Rolls the workload's pods whenever `contents` change, by stamping their digest on the pod
 * template (`checksum/<name>`): mounted ConfigMaps update in place, but processes read them at start.
 */
export function rollOnChange(workload: kplus.Workload, name: string, ...contents: string[]): void {
  workload.podMetadata.addAnnotation(`checksum/${name}`, contentHash(...contents));
}
