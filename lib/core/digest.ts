import { createHash } from 'crypto';
import { Memo } from './memo';

const digests = new Memo<string, string>();

/**
 * The sha256 of a text's UTF-8, remembered: the same text (a dashboard, the router source, a
 * config file) recurs in every environment, and serves both the pods' rollout checksums and the
 * YAML cache's keys; a string that was a Map key before is found without reading it again.
 */
export function textDigest(text: string): string {
  return digests.get(text, () => createHash('sha256').update(text).digest('hex'));
}
