/** A container image reference, split into its parts. */
export interface ImageReference {
  /** Registry and repository, e.g. `quay.io/prometheus/prometheus`. */
  readonly repository: string;
  /** The tag, e.g. `v2.55.1`, if the reference has one. */
  readonly tag?: string;
  /** The digest, e.g. `sha256:...`, if the reference has one. */
  readonly digest?: string;
}

const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;
// A label value: at most 63 characters, alphanumerics at both ends, `-_.` between.
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/**
 * Splits `repository[:tag][@digest]`: the tag is after the last `:` of the last path segment (a
 * registry's `host:port` is not a tag), the digest after `@`.
 */
export function parseImage(image: string): ImageReference {
  const at = image.indexOf('@');
  const digest = at >= 0 ? image.slice(at + 1) : undefined;
  const name = at >= 0 ? image.slice(0, at) : image;
  const colon = name.lastIndexOf(':');
  const hasTag = colon > name.lastIndexOf('/');
  return { repository: hasTag ? name.slice(0, colon) : name, tag: hasTag ? name.slice(colon + 1) : undefined, digest };
}

/** True when the image is pinned: a valid tag other than `latest`, a sha256 digest, or both. */
export function isPinnedImage(image: string): boolean {
  if (typeof image !== 'string' || image === '') return false;
  const ref = parseImage(image);
  if (ref.repository === '') return false;
  if (ref.digest !== undefined) return DIGEST.test(ref.digest) && (ref.tag === undefined || TAG.test(ref.tag));
  return ref.tag !== undefined && TAG.test(ref.tag) && ref.tag !== 'latest';
}

/**
 * The `app.kubernetes.io/version` label of an image: its tag when the tag is a valid label value,
 * else undefined (a digest-only reference has no version a person reads).
 */
export function imageVersion(image: string): string | undefined {
  const tag = parseImage(image).tag;
  return tag !== undefined && tag.length <= 63 && LABEL_VALUE.test(tag) ? tag : undefined;
}
