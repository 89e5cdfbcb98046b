import { IConstruct } from 'constructs';
import { isPinnedImage } from './image';

/** Thrown when a construct is given props it cannot synthesize. */
export class ValidationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ValidationError';
  }
}

/** Renders a bad value the way a user wrote it: strings quoted, everything else as JSON. */
export function showValue(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (value === undefined) return 'undefined';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
// RFC 1123 subdomain: what Kubernetes allows for most object names (Secrets, StorageClasses, ConfigMaps).
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
// A key of a Secret or ConfigMap.
const SECRET_KEY = /^[-._a-zA-Z0-9]{1,253}$/;
// A label or annotation key: optional DNS-subdomain prefix, then a name of at most 63 characters.
const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;

/** A key of an existing Secret: how every construct takes a password or a credential (never a value). */
export interface SecretKeyRef {
  /** Name of the existing Secret (a DNS subdomain); the stack never creates one with a value. */
  readonly name: string;
  /** The key inside the Secret. */
  readonly key: string;
}
// Kubernetes resource.Quantity, as apimachinery parses it.
const QUANTITY = /^[+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+|Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$/;

/**
 * Collects every problem with a construct's props, then throws one error that lists them all,
 * naming the construct path, the prop, the value and what is allowed:
 * `Redis 'prod/redis': appendFsync must be one of always|everysec|no, got 'sometimes'`.
 */
export class PropValidator {
  private readonly problems: string[] = [];

  /**
   * @param construct the construct whose props are checked (its path goes in the message)
   * @param kind what the construct is, as users know it: `Redis`, `Prometheus`
   */
  constructor(
    private readonly construct: IConstruct,
    private readonly kind: string,
  ) {}

  /** Records that `prop` holds `value`, which is not `allowed`. */
  fail(prop: string, value: unknown, allowed: string): void {
    this.problems.push(`${prop} must be ${allowed}, got ${showValue(value)}`);
  }

  /** Records a problem unless `ok`. Returns `ok`, so checks can be chained. */
  check(ok: boolean, prop: string, value: unknown, allowed: string): boolean {
    if (!ok) this.fail(prop, value, allowed);
    return ok;
  }

  oneOf<T>(prop: string, value: T, choices: readonly T[]): boolean {
    return this.check(choices.includes(value), prop, value, `one of ${choices.join('|')}`);
  }

  integer(prop: string, value: number, min: number, max: number = Number.MAX_SAFE_INTEGER): boolean {
    const ok = Number.isInteger(value) && value >= min && value <= max;
    const allowed = max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer from ${min} to ${max}`;
    return this.check(ok, prop, value, allowed);
  }

  port(prop: string, value: number): boolean {
    return this.integer(prop, value, 1, 65535);
  }

  nodePort(prop: string, value: number): boolean {
    return this.integer(prop, value, 30000, 32767);
  }

  /** A Kubernetes quantity such as `500m`, `256Mi` or `10Gi`. */
  quantity(prop: string, value: string): boolean {
    return this.check(typeof value === 'string' && QUANTITY.test(value), prop, value, 'a Kubernetes quantity such as 500m, 256Mi or 10Gi');
  }

  /** An RFC 1123 label: what Kubernetes allows for namespace, service and port names. */
  dnsLabel(prop: string, value: string, maxLength = 63): boolean {
    const ok = typeof value === 'string' && value.length <= maxLength && DNS_LABEL.test(value);
    return this.check(ok, prop, value, `a DNS label of at most ${maxLength} characters (lower-case letters, digits and '-', starting and ending with a letter or digit)`);
  }

  /** An RFC 1123 subdomain: what Kubernetes allows for Secret, ConfigMap and StorageClass names. */
  dnsSubdomain(prop: string, value: string): boolean {
    const ok = typeof value === 'string' && value.length <= 253 && DNS_SUBDOMAIN.test(value);
    return this.check(ok, prop, value, "a DNS subdomain of at most 253 characters (lower-case letters, digits, '-' and '.')");
  }

  /** The name of a StorageClass. */
  storageClassName(prop: string, value: string): boolean {
    const ok = typeof value === 'string' && value.length <= 253 && DNS_SUBDOMAIN.test(value);
    return this.check(ok, prop, value, "a StorageClass name (a DNS subdomain: lower-case letters, digits, '-' and '.')");
  }

  /** A reference to a key of an existing Secret: a valid Secret name and a key. */
  secretKeyRef(prop: string, ref: SecretKeyRef | undefined): boolean {
    if (!this.check(typeof ref === 'object' && ref !== null, prop, ref, "a Secret key reference { name: '<secret>', key: '<key>' }")) return false;
    const name = this.check(typeof ref!.name === 'string' && ref!.name.length <= 253 && DNS_SUBDOMAIN.test(ref!.name), `${prop}.name`, ref!.name, "the name of an existing Secret (a DNS subdomain: lower-case letters, digits, '-' and '.')");
    const key = this.check(typeof ref!.key === 'string' && SECRET_KEY.test(ref!.key), `${prop}.key`, ref!.key, "a Secret key (letters, digits, '-', '_' and '.')");
    return name && key;
  }

  /** A label or annotation key. */
  labelKey(prop: string, key: string): boolean {
    return this.check(LABEL_KEY.test(key), prop, key, 'label or annotation keys of an optional DNS prefix and a name of at most 63 characters');
  }

  /** A label value. */
  labelValue(prop: string, value: string): boolean {
    return this.check(typeof value === 'string' && LABEL_VALUE.test(value), prop, value, "a label value of at most 63 letters, digits, '-', '_' and '.'");
  }

  /** A container image pinned to a version: a tag other than `latest`, a digest, or both. */
  pinnedImage(prop: string, value: string): boolean {
    return this.check(isPinnedImage(value), prop, value, "an image pinned to a version (a tag other than 'latest', @sha256:<digest>, or both)");
  }

  nonEmpty(prop: string, value: string | readonly unknown[]): boolean {
    return this.check(value.length > 0, prop, value, 'not empty');
  }

  /** Every value of `values` at most once. */
  unique(prop: string, values: readonly string[]): boolean {
    const seen = new Set<string>();
    let ok = true;
    for (const value of values) {
      if (seen.has(value)) ok = this.check(false, prop, value, 'unique');
      seen.add(value);
    }
    return ok;
  }

  /** Throws one ValidationError listing every recorded problem, if there are any. */
  throwIfInvalid(): void {
    if (this.problems.length === 0) return;
    const where = `${this.kind} '${this.construct.node.path}'`;
    if (this.problems.length === 1) throw new ValidationError(`${where}: ${this.problems[0]}`);
    throw new ValidationError(`${where} has ${this.problems.length} invalid props:\n${this.problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}
