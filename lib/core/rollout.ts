import { createHash } from 'crypto';
import { Lazy } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { textDigest } from './digest';

/** A short, stable digest of config content: of the digests of each part, in order. */
export function contentHash(...contents: string[]): string {
  const hash = createHash('sha256');
  for (const content of contents) hash.update(textDigest(content)).update('\0');
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
