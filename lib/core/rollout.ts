import { createHash } from 'crypto';
import { Lazy } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Memo } from './memo';

const digests = new Memo<string, string>();

/**
 * The sha256 of one content, remembered: the same text (a dashboard, the router source) recurs in
 * every environment, and a string that was a Map key before is found without reading it again.
 */
function digestOf(content: string): string {
  return digests.get(content, () => createHash('sha256').update(content).digest('hex'));
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
 * Give a function for content that is complete only at synth (it is called then, with `Lazy`).
 */
export function rollOnChange(workload: kplus.Workload, name: string, ...contents: string[] | [() => readonly string[]]): void {
  const [first] = contents;
  const value = typeof first === 'function' ? Lazy.any({ produce: () => contentHash(...first()) }) : contentHash(...(contents as string[]));
  workload.podMetadata.addAnnotation(`checksum/${name}`, value);
}
