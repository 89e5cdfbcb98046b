import { createHash } from 'crypto';
import * as kplus from 'cdk8s-plus-27';

const digests = new Map<string, string>();

/**
 * The sha256 of one content, remembered: the same text (a dashboard, the router source) recurs in
 * every environment, and a string that was a Map key before is found without reading it again.
 */
function digestOf(content: string): string {
  let digest = digests.get(content);
  if (digest === undefined) {
    digest = createHash('sha256').update(content).digest('hex');
    if (digests.size >= 256) digests.clear();
    digests.set(content, digest);
  }
  return digest;
}

/** A short, stable digest of config content: of the digests of each part, in order. */
export function contentHash(...contents: string[]): string {
  const hash = createHash('sha256');
  for (const content of contents) hash.update(digestOf(content)).update('\0');
  return hash.digest('hex').slice(0, 16);
}

/**
 * Rolls the workload's pods whenever `contents` change, by stamping their digest on the pod
 * template (`checksum/<name>`): mounted ConfigMaps update in place, but processes read them at start.
 */
export function rollOnChange(workload: kplus.Workload, name: string, ...contents: string[]): void {
  workload.podMetadata.addAnnotation(`checksum/${name}`, contentHash(...contents));
}
