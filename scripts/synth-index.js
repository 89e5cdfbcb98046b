// The index of the output folder: `.synth-index`, written by the synth beside the manifests and
// committed with them. It records every text lib/core/yaml.ts's `toYaml` produced in the synth that
// wrote the folder, by the key of the value it was made from (`yamlKey`: a hash of the value's
// JSON): a manifest by its file and a hash of the file's bytes, a config file embedded in a
// ConfigMap (prometheus.yml, rule files, Grafana provisioning) in full; and the keys of the
// dashboards' PromQL expressions that parsed. The next synth over the folder, a fresh clone's in CI
// too, then serializes only values that changed and parses only expressions that changed. Each
// line stands alone: a text's hash covers the serializer that wrote it (lib/core/yaml.ts, js-yaml)
// and the text, an expression's entry the parser's version, so a text is taken only when the same
// serializer would write it and a verdict only for the same parser. A manifest edited by hand no
// longer matches its hash and is written again (a file's hash is known by its status while the
// file does not change: hashes-by-status.js); an index that is lost, edited or merged in any way
// (lines of two branches, of two versions) only makes the synth serialize and parse more.
// A copy of what the last synth knew (texts in full) is kept in node_modules/.cache, for what the
// folder's index cannot serve: a folder `cdk8s synth` deleted before the app ran, another branch's
// objects. It is read only when the index misses, and written at exit when a synth serialized or
// parsed anything. PLATFORM_STACK_YAML_CACHE=off serializes everything.
// Not a manifest: Argo CD, Flux and `kubectl apply -R` read .yaml, .yml and .json files only.
const fs = require('fs');
const path = require('path');
const { memoizeYaml } = require('../lib/core/yaml.ts');
const { promqlParserVersion, recordPromqlParses } = require('../lib/grafana/promql.ts');
const { cacheDir, thisRunFirst, writeAtomically } = require('./cache-files');
const { fileHashesName, indexParsedEntry, indexTextHash, yamlSerializerKey } = require('./cache-keys');
const { hashesByStatus } = require('./hashes-by-status');

const ROOT = path.join(__dirname, '..');
const SERIALIZER = path.join(ROOT, 'lib', 'core', 'yaml.ts');
// A direct dependency: npm installs it at the top of node_modules (resolving it costs 5 ms; a test
// checks that this is the js-yaml lib/core/yaml.ts loads).
const JS_YAML_PACKAGE = path.join(ROOT, 'node_modules', 'js-yaml', 'package.json');

const INDEX_FILE = '.synth-index';
// The copy in node_modules/.cache: this run's texts and entries, and earlier ones up to this many characters.
const KEPT_FILE = path.join(cacheDir('synth-index'), 'kept.v8');
const KEEP_CHARS = 2 * 1024 * 1024;
const HEADER = [
  "# The synth's index of this folder (scripts/synth-index.js): what each manifest and embedded",
  '# config file was written from, so that the next synth serializes only what changed. Not a',
  '# manifest; deleting it only makes the next synth slower.',
];

/** The serializer's key: what a text depends on besides its value. */
const currentSerializer = () => yamlSerializerKey(fs.readFileSync(SERIALIZER), fs.readFileSync(JS_YAML_PACKAGE));

/**
 * The index in `bytes` (undefined: none): the places of each key's text (`{ file, hash }` or
 * `{ text, hash }`: several where indexes were merged), the entries of expressions that parsed.
 * Lines it cannot read are left out.
 */
function parseIndex(bytes) {
  const index = { texts: new Map(), parsed: new Set() };
  const add = (key, place) => index.texts.set(key, [...(index.texts.get(key) ?? []), place]);
  for (const line of bytes === undefined ? [] : bytes.toString('utf8').split('\n')) {
    const [field, key, hash, ...rest] = line.split(' ');
    if (field === 'parsed' && key) index.parsed.add(key);
    else if (field === 'file' && rest.length > 0) add(key, { hash, file: rest.join(' ').split('/').join(path.sep) });
    else if (field === 'text' && rest.length > 0) {
      try {
        const text = JSON.parse(rest.join(' '));
        if (typeof text === 'string') add(key, { hash, text });
      } catch {
        // Not a line the synth wrote: skipped.
      }
    }
  }
  return index;
}

/** The copy kept in node_modules/.cache, in the shape of a parsed index (every text in full); empty when there is none. */
function readKept() {
  try {
    const { texts, parsed } = require('v8').deserialize(fs.readFileSync(KEPT_FILE));
    if (texts instanceof Map && parsed instanceof Set) return { texts, parsed };
  } catch {
    // None yet, or unreadable.
  }
  return { texts: new Map(), parsed: new Set() };
}

/** Writes this run's texts (key -> `{ text, hash }`) and entries, then the kept copy's earlier ones while they fit. */
function saveKept(texts, parsed, kept) {
  try {
    const places = new Map([...texts].map(([key, { text, hash }]) => [key, [{ text, hash }]]));
    const size = ([place]) => place.text.length;
    writeAtomically(KEPT_FILE, require('v8').serialize({ texts: thisRunFirst(places, kept.texts, KEEP_CHARS, size), parsed: new Set([...parsed, ...kept.parsed].slice(0, 4096)) }));
  } catch {
    // A cache that cannot be written only costs the next run its speed.
  }
}

/**
 * Serves this synth from the index among `filesBefore` (the files of the output folder `outdir`,
 * relative path -> bytes; `statuses`: their settled statuses, cache-files.js): the YAML of values
 * whose text the index holds, and the PromQL verdicts. Returns the function that makes the new
 * index of the rendered files.
 */
function useSynthIndex(outdir, filesBefore, statuses) {
  const previous = parseIndex(filesBefore.get(INDEX_FILE));
  const serializer = currentSerializer();
  // The hash of a file whose status has not changed since it was last hashed is known.
  const fileHashes = hashesByStatus(path.join(cacheDir('synth-index'), `${fileHashesName(outdir)}.hashes`), serializer);
  const promqlParser = promqlParserVersion() ?? 'unknown';
  const reuseYaml = process.env.PLATFORM_STACK_YAML_CACHE !== 'off';
  let kept;
  const keptCopy = () => (kept ??= readKept());
  // Every text toYaml returned in this run, by key, with its hash once known.
  const texts = new Map();
  const hashOf = (entry) => (entry.hash ??= indexTextHash(serializer, entry.text));
  // Whether this run serialized or parsed anything: then the kept copy is written at exit.
  let computed = false;

  /** The text of the first of `places` whose hash holds, recorded as this run's. */
  function servedFrom(key, places) {
    for (const place of places) {
      const data = place.file === undefined ? place.text : filesBefore.get(place.file);
      if (data === undefined) continue;
      const hash = () => indexTextHash(serializer, data);
      if ((place.file === undefined ? hash() : fileHashes.hash(place.file, statuses.get(place.file), hash)) !== place.hash) continue;
      const text = typeof data === 'string' ? data : data.toString('utf8');
      texts.set(key, { text, hash: place.hash });
      return text;
    }
    return undefined;
  }

  memoizeYaml({
    get(key) {
      const known = texts.get(key);
      if (known !== undefined) return known.text;
      if (!reuseYaml) return undefined;
      return servedFrom(key, previous.texts.get(key) ?? []) ?? servedFrom(key, keptCopy().texts.get(key) ?? []);
    },
    set(key, text) {
      texts.set(key, { text });
      computed = true;
    },
  });
  // This run's expressions that parsed, by their entries.
  const parsed = new Set();
  recordPromqlParses({
    has(key) {
      const entry = indexParsedEntry(promqlParser, key);
      if (previous.parsed.has(entry) || keptCopy().parsed.has(entry)) parsed.add(entry);
      return parsed.has(entry);
    },
    add(key) {
      parsed.add(indexParsedEntry(promqlParser, key));
      computed = true;
    },
  });
  process.once('exit', (code) => {
    if (code !== 0) return;
    fileHashes.save();
    if (!computed) return;
    for (const entry of texts.values()) hashOf(entry);
    saveKept(texts, parsed, keptCopy());
  });

  /** The index of `files` (relative path -> text), as this synth rendered them. */
  return function indexOf(files) {
    // The files by their texts' lengths, not by the texts: a Map keyed by 2 MB of text has V8 hash
    // every character of it. Texts of one length are few, and compared only with each other.
    const filesOfLength = new Map();
    for (const [file, text] of files) {
      const group = filesOfLength.get(text.length);
      if (group) group.push(file);
      else filesOfLength.set(text.length, [file]);
    }
    // The file holding `text` (the last one, if several do, as a Map keyed by the texts would give).
    const fileOf = (text) => (filesOfLength.get(text.length) ?? []).findLast((file) => files.get(file) === text);
    const manifests = [];
    const embedded = [];
    for (const [key, entry] of texts) {
      const hash = hashOf(entry);
      const file = fileOf(entry.text)?.split(path.sep).join('/');
      if (file === undefined) embedded.push(`text ${key} ${hash} ${JSON.stringify(entry.text)}`);
      else manifests.push({ file, line: `file ${key} ${hash} ${file}` });
    }
    // Manifests by file, embedded texts by key: a change moves no other line.
    manifests.sort((a, b) => (a.file < b.file ? -1 : 1));
    const parses = [...parsed].sort().map((key) => `parsed ${key}`);
    return `${[...HEADER, ...manifests.map((m) => m.line), ...embedded.sort(), ...parses].join('\n')}\n`;
  };
}

module.exports = { useSynthIndex, INDEX_FILE, JS_YAML_PACKAGE };
