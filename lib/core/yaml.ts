// YAML serialization for everything the stack writes: the manifests of dist/ and the config files
// embedded in ConfigMaps (prometheus.yml, rule files, Grafana provisioning). One library, js-yaml,
// for all: a synth runs each serializer's code cold, and js-yaml is 2 to 4 times faster than the
// `yaml` library on these objects.

import { createHash } from 'crypto';
import { serialize } from 'v8';
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
 * What `toYaml` keys a value's text by: equal keys, equal YAML. A hash of its JSON when JSON holds
 * the value exactly (the same on every node version and machine, so a key can be committed, as the
 * synth's index of dist/ does), else of V8's serialization, which tells apart what JSON does not
 * (undefined, NaN, -0, a Date).
 */
export function yamlKey(value: unknown): string {
  return isJsonExact(value, 0) ? `j${sha1(JSON.stringify(value))}` : `v${sha1(serialize(value))}`;
}

const sha1 = (data: string | Buffer) => createHash('sha1').update(data).digest('hex');

// Deeper than any manifest: a cycle, or a value too deep to be worth keying by its JSON.
const MAX_JSON_DEPTH = 200;

/** True when `JSON.parse(JSON.stringify(value))` is `value` again: null, booleans, strings, finite numbers (not -0), plain arrays and objects of such. */
function isJsonExact(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0);
    case 'object': {
      if (value === null) return true;
      if (depth > MAX_JSON_DEPTH) return false;
      // Of any realm (a vm context's, structuredClone's): an array's prototype is an Array.prototype,
      // the only prototype that is an array; a plain object's is an Object.prototype, which has none.
      const prototype = Object.getPrototypeOf(value);
      if (Array.isArray(value)) {
        if (!Array.isArray(prototype)) return false;
        for (let i = 0; i < value.length; i++) if (!(i in value) || !isJsonExact(value[i], depth + 1)) return false;
        return true;
      }
      if (prototype !== null && Object.getPrototypeOf(prototype) !== null) return false;
      for (const key in value) if (!isJsonExact((value as Record<string, unknown>)[key], depth + 1)) return false;
      return true;
    }
    default:
      return false;
  }
}

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
