import { Testing } from 'cdk8s';
import { parse } from 'yaml';
import { runInNewContext } from 'vm';
import { memoizeYaml, readAsNumberByYaml11, toYaml, yamlKey } from '../lib/core/yaml';
import { buildApp } from '../main';

// Strings a YAML parser may read as something other than the string: YAML 1.1 booleans, numbers
// in every base, with `_`, sexagesimal, floats, timestamps, nulls, the merge key, and characters
// that have a meaning at the start of a plain scalar.
const TRICKY_STRINGS = [
  'y', 'Y', 'n', 'N', 'yes', 'No', 'on', 'ON', 'off', 'Off', 'true', 'False', 'TRUE',
  '~', 'null', 'Null', 'NULL', '',
  '0', '1', '-1', '+1', '0755', '0o17', '0x1F', '0x_1F', '0b101', '-0b1', '1_000', '+1_000', '08', '09.5',
  '1.5', '1.', '.5', '+.5', '-.5', '1e3', '1E+3', '6.8523015e+5', '.inf', '-.Inf', '.NaN', 'NaN', 'inf',
  '1:30', '190:20:30', '-1:30:00.5', '2001-12-14', '2001-12-14t21:59:43.10-05:00', '2001-12-14 21:59:43.10 -5',
  '<<', '=', '-', '--flag', '- item', '? key', ': value', 'a: b', 'a #b', '#comment', '@at', '`tick', '!tag', '&anchor', '*alias',
  '%directive', '|', '>', "'single'", '"double"', '[list]', '{map}', ' leading', 'trailing ', '\ttab', 'tab\tinside',
  'line\nbreak', 'ends with newline\n', '\nstarts with newline', 'line  \n  indented', '\u2028separator', 'a\u0085b', 'emoji 🚀',
];

describe('toYaml: how the stack writes YAML, manifests and embedded config files alike', () => {
  test('writes block style, keys in the order given, multi-line strings as literal blocks', () => {
    // GIVEN an object as cdk8s synthesizes one
    const object = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', labels: { b: '1', a: 'on' } }, data: { 'f.yml': 'a: 1\nb: 2\n', list: ['--x', 3, true, null] } };
    // WHEN it is written THEN it reads as people write YAML
    expect(toYaml(object)).toBe(
      [
        'apiVersion: v1',
        'kind: ConfigMap',
        'metadata:',
        '  name: x',
        '  labels:',
        '    b: "1"',
        '    a: "on"',
        'data:',
        '  f.yml: |',
        '    a: 1',
        '    b: 2',
        '  list:',
        '    - "--x"',
        '    - 3',
        '    - true',
        '    - null',
        '',
      ].join('\n'),
    );
  });

  test('writes undefined as null, as cdk8s does', () => {
    expect(toYaml({ a: undefined, b: [undefined] })).toBe('a: null\nb:\n  - null\n');
  });

  describe("memoizeYaml: a store of earlier texts, by a hash of the value (dist/'s index is one: scripts/synth-index.js)", () => {
    const store = new Map<string, string>();
    beforeEach(() => {
      store.clear();
      memoizeYaml({ get: (key) => store.get(key), set: (key, text) => store.set(key, text) });
    });
    afterEach(() => memoizeYaml(undefined));

    test('records what it serializes, and answers the same value from the store', () => {
      // GIVEN an empty store WHEN a value is serialized THEN its text is recorded under one key
      const value = { kind: 'ConfigMap', data: { 'a.json': '{\n  "x": 1\n}' } };
      const text = toYaml(value);
      expect([...store.values()]).toEqual([text]);
      // WHEN the stored text is replaced THEN an equal value (a new object) is answered from the store
      const [key] = store.keys();
      store.set(key, 'from the store\n');
      expect(toYaml(structuredClone(value))).toBe('from the store\n');
    });

    test("a JSON value's key is a hash of its JSON form, whatever realm made it and however V8 holds it: a key can be committed", () => {
      const value = { a: [1, 'x', true, null], b: { c: 0.5 } };
      const key = yamlKey(value);
      expect(key).toMatch(/^j[0-9a-f]{40}$/);
      expect(yamlKey(structuredClone(value))).toBe(key);
      expect(yamlKey(runInNewContext("({ a: [1, 'x', true, null], b: { c: 0.5 } })"))).toBe(key);
      // 1 computed as a double, where the literal is a small integer: V8's serialize() tells them apart, JSON does not
      expect(yamlKey({ ...value, a: [Math.sqrt(1), 'x', true, null] })).toBe(key);
      // and what JSON cannot hold exactly is keyed otherwise
      for (const other of [{ a: NaN }, { a: undefined }, [-0], new Date(0)]) expect(yamlKey(other)).toMatch(/^v/);
    });

    test('a long string stands in the JSON form by its hash: two long strings never share a key, nor a long string and a string that looks like its stand-in', () => {
      const long = 'x'.repeat(5000);
      const key = yamlKey({ data: long });
      expect(yamlKey({ data: `${long.slice(1)}y` })).not.toBe(key);
      expect(yamlKey({ data: long.slice(0) })).toBe(key);
      // a string of the value's own that starts like a stand-in (NUL) has no JSON form
      expect(yamlKey({ data: '\u00005000:0000' })).toMatch(/^v/);
    });

    test('long strings that UTF-8 would make equal keep keys of their own: a lone surrogate is not U+FFFD', () => {
      // GIVEN three long strings whose UTF-8 is the same (UTF-8 cannot hold a lone surrogate: it writes U+FFFD)
      const long = 'x'.repeat(5000);
      const [replaced, high, low] = [`${long}\ufffd`, `${long}\ud800`, `${long}\udc00`];
      expect(Buffer.from(high).equals(Buffer.from(replaced)) && Buffer.from(low).equals(Buffer.from(replaced))).toBe(true);
      // WHEN / THEN their keys differ, and their YAML too
      const keys = [replaced, high, low].map((data) => yamlKey({ data }));
      expect(new Set(keys).size).toBe(3);
      expect(new Set([replaced, high, low].map((data) => toYaml({ data }))).size).toBe(3);
    });

    test('values that serialize differently never share a key: key order, types, and what JSON would merge', () => {
      const values = [{ a: 1, b: 2 }, { b: 2, a: 1 }, { a: '1', b: 2 }, [undefined], [null], [NaN], { a: undefined }, { a: null }, [0], [-0]];
      for (const value of values) toYaml(value);
      expect(store.size).toBe(values.length);
      memoizeYaml(undefined);
      for (const value of values) expect([...store.values()]).toContain(toYaml(value));
    });
  });

  test('keeps long values on one line', () => {
    const expr = `sum by (namespace) (rate(${'x'.repeat(300)}[5m]))`;
    expect(toYaml({ expr })).toBe(`expr: ${expr}\n`);
  });

  test.each(TRICKY_STRINGS.map((s) => [s]))('%j reads back as the same string in YAML 1.1 and 1.2', (text) => {
    // GIVEN a string value WHEN it is written and read back by a YAML 1.1 and a YAML 1.2 parser
    const written = toYaml({ value: text, list: [text] });
    // THEN both read the string, never a boolean, number, date or null
    for (const version of ['1.1', '1.2'] as const) {
      expect(parse(written, { version })).toEqual({ value: text, list: [text] });
    }
  });

  test.each([['0o17'], ['0x_1F'], ['08'], ['09.5'], ['1_000'], ['-0b1'], ['+.5'], ['0755']])('quotes %p, which go-yaml v2 (Kubernetes, Prometheus) reads as a number', (text) => {
    expect(readAsNumberByYaml11(text)).toBe(true);
    expect(toYaml({ value: text })).toBe(`value: "${text}"\n`);
  });

  test.each([['v2.55.1'], ['1.2.3'], ['10Gi'], ['500m'], ['1e'], ['0x'], ['_1'], ['http://a:9090'], ['30s']])('leaves %p unquoted: no parser reads it as a number', (text) => {
    expect(readAsNumberByYaml11(text)).toBe(false);
    expect(toYaml({ value: text })).toBe(`value: ${text}\n`);
  });

  test('every object of the app reads back equal to what cdk8s synthesized, in YAML 1.1 and 1.2', () => {
    // GIVEN every object of every environment
    const objects = buildApp({ outdir: '/nonexistent-must-not-be-written' }).charts.flatMap((chart) => Testing.synth(chart));
    expect(objects.length).toBeGreaterThan(50);
    // WHEN each is written THEN it reads back to the same value
    for (const object of objects) {
      const written = toYaml(object);
      expect(parse(written, { version: '1.1' })).toEqual(object);
      expect(parse(written)).toEqual(object);
    }
  });
});
