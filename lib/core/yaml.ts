// YAML serialization for everything the stack writes: the manifests of dist/ and the config files
// embedded in ConfigMaps (prometheus.yml, rule files, Grafana provisioning). One library, js-yaml,
// for all: a synth runs each serializer's code cold, and js-yaml is 2 to 4 times faster than the
// `yaml` library on these objects.

import { createHash } from 'crypto';
import { textDigest } from './digest';
import { Memo } from './memo';

/** The part of js-yaml used here (the package ships no types). */
interface JsYaml {
  dump(value: unknown, options: Readonly<Record<string, unknown>>): string;
  readonly DEFAULT_SCHEMA: { extend(types: { implicit: unknown[] }): unknown };
  readonly Type: new (tag: string, options: { kind: 'scalar'; resolve: (data: string | null) => boolean }) => unknown;
}

// Strings that go-yaml v2 reads as numbers (Kubernetes' sigs.k8s.io/yaml and Prometheus read YAML
// with it): it drops every `_`, then parses Go integer syntax (`0o17`, `0x1F`, `0755` in octal)
// and decimal floats (`08`, `1e3`). YAML 1.1 parsers read `1_000` as a number too.
const GO_YAML_V2_INT = /^[-+]?(0[xX][0-9a-fA-F]+|0[oO]?[0-7]+|0[bB][01]+|[0-9]+)$/;
const GO_YAML_V2_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;

/** True when go-yaml v2 or a YAML 1.1 parser would read `text`, written unquoted, as a number. */
export function readAsNumberByYaml11(text: string): boolean {
  if (!/^[-+.0-9]/.test(text)) return false;
  const digits = text.replace(/_/g, '');
  return GO_YAML_V2_INT.test(digits) || GO_YAML_V2_FLOAT.test(digits);
}

let loaded: { readonly jsYaml: JsYaml; readonly options: Readonly<Record<string, unknown>> } | undefined;

// Loaded on first use: a program that imports the library but writes no YAML pays nothing.
function load(): NonNullable<typeof loaded> {
  if (!loaded) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const jsYaml = require('js-yaml') as JsYaml;
    // An implicit type the dumper only consults to decide whether a string needs quotes: it
    // matches strings but never represents a value (it has no predicate), so they are quoted.
    const yaml11Numbers = new jsYaml.Type('tag:cdk8s-platform-stack,2025:yaml-1.1-number', {
      kind: 'scalar',
      resolve: (data) => data !== null && readAsNumberByYaml11(data),
    });
    const options = {
      schema: jsYaml.DEFAULT_SCHEMA.extend({ implicit: [yaml11Numbers] }),
      // Long values (PromQL, JSON, URLs) stay on one line.
      lineWidth: -1,
      // Every repeated object is written out in full: no anchors and aliases.
      noRefs: true,
      quotingType: '"',
      // Undefined (left by a JSON patch, say) is written as null, as cdk8s writes it.
      replacer: (_key: string, value: unknown) => (value === undefined ? null : value),
    };
    loaded = { jsYaml, options };
  }
  return loaded;
}

/**
 * `value` as YAML: block style, keys in the object's order, multi-line strings as literal blocks,
 * strings quoted wherever a YAML 1.1 parser (go-yaml v2: Kubernetes, Prometheus) would read them
 * as something else (`on`, `yes`, `1_000`, `0755`, `1:30`, `2024-01-01`, ...).
 */
export function toYaml(value: unknown): string {
  const key = yamlKey(value);
  let text = memo.get(key);
  if (text === undefined) {
    text = dump(value);
    memo.set(key, text);
  }
  return text;
}

/**
 * What `toYaml` keys a value's text by: equal keys, equal YAML. A hash of its JSON form when JSON
 * holds the value exactly (the same on every node version and machine, so a key can be committed,
 * as the synth's index of dist/ does), else of V8's serialization, which tells apart what JSON does
 * not (undefined, NaN, -0, a Date).
 */
export function yamlKey(value: unknown): string {
  const json = jsonForm(value);
  const hash = createHash('sha1')
    .update(json ?? v8Serialization(value))
    .digest('hex');
  return json === undefined ? `v${hash}` : `j${hash}`;
}

// Loaded on first use: values without a JSON form are rare.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const v8Serialization = (value: unknown): Buffer => (require('v8') as typeof import('v8')).serialize(value);

// Strings longer than this (dashboards, embedded config files: 90% of a manifest's characters, the
// same ones in every environment) stand in the JSON form as a hash of their own, computed once.
const LONG_STRING = 1024;
const longStringHashes = new Memo<string, string>(256);
// Marks a long string's hash. No string of a value's own starts with it: such a value has no JSON form.
const LONG_STRING_MARK = '\u0000';

/**
 * `value`'s JSON form, or undefined when JSON does not hold it exactly: only null, booleans, finite
 * numbers (not -0), strings, plain arrays and objects (of any realm) of such, no cycle, so that
 * `JSON.parse` of the form would give `value` back. Long strings are replaced by their hash.
 */
function jsonForm(value: unknown): string | undefined {
  let exact = true;
  function plainOnly(this: Record<string, unknown>, key: string, item: unknown): unknown {
    // `item` is what toJSON() returned, where the holder's value has one: that value is not plain.
    if (this[key] !== item) exact = false;
    switch (typeof item) {
      case 'string':
        if (item.startsWith(LONG_STRING_MARK)) exact = false;
        return item.length > LONG_STRING ? longStringHash(item) : item;
      case 'number':
        if (!Number.isFinite(item) || Object.is(item, -0)) exact = false;
        return item;
      case 'boolean':
        return item;
      case 'object': {
        if (item === null) return item;
        // Of any realm: an array's prototype is an Array.prototype, the only prototype that is an
        // array; a plain object's is an Object.prototype, which has none.
        const prototype = Object.getPrototypeOf(item);
        if (Array.isArray(item) ? !Array.isArray(prototype) : prototype !== null && Object.getPrototypeOf(prototype) !== null) exact = false;
        return item;
      }
      default:
        // undefined (an array's hole too), a function, a symbol, a BigInt
        exact = false;
        return null;
    }
  }
  try {
    const json = JSON.stringify(value, plainOnly);
    return exact ? json : undefined;
  } catch {
    return undefined; // a cycle: V8's serialization keys it
  }
}

/**
 * A long string's stand-in: by the sha256 of its UTF-8, which the rollout checksums of the same
 * text share (each text is read once), or, for a string UTF-8 cannot hold (a lone surrogate, which
 * it would turn into U+FFFD), by a hash of its UTF-16.
 */
const longStringHash = (text: string): string =>
  isWellFormed(text)
    ? `${LONG_STRING_MARK}${text.length}:${textDigest(text)}`
    : longStringHashes.get(text, () => `${LONG_STRING_MARK}${text.length}:utf16 ${createHash('sha1').update(text, 'utf16le').digest('hex')}`);

// String.prototype.isWellFormed (ES2024; Node >= 20), which TypeScript's ES2022 library lacks.
const isWellFormed = (text: string): boolean => (text as unknown as { isWellFormed(): boolean }).isWellFormed();

function dump(value: unknown): string {
  const { jsYaml, options } = load();
  return jsYaml.dump(value, options);
}

/** Texts `toYaml` produced earlier, by a hash of the value. */
export interface YamlMemo {
  get(key: string): string | undefined;
  set(key: string, text: string): void;
}

/** The store when none is given: this process's texts, as the same file (a rule group, a dashboard) recurs in every environment. */
const processTexts = new Memo<string, string>(512);
const processStore: YamlMemo = {
  get: (key) => processTexts.peek(key),
  set: (key, text) => processTexts.set(key, text),
};

let memo: YamlMemo = processStore;

/**
 * Makes `toYaml` look up each value in `store` before serializing it, and record what it
 * serializes (undefined: back to this process's texts only). The store must be keyed to this
 * serializer: this file and js-yaml's version (the synth keeps one across runs in dist/'s index,
 * scripts/synth-index.js: most of a synth's objects are the same as last time).
 */
export function memoizeYaml(store: YamlMemo | undefined): void {
  memo = store ?? processStore;
}
