// Keeps the YAML the synth wrote across runs, so an object that did not change is not serialized
// again (js-yaml was a sixth of a synth, and most runs change few objects). It plugs a store into
// lib/core/yaml.ts (`memoizeYaml`), which keys each text by a hash of the value; this file keys the
// store to the serializer (lib/core/yaml.ts, js-yaml, V8), so a hit is exactly what serializing
// would return. One file in node_modules/.cache (v8.serialize: 5 times faster to read than JSON),
// rewritten only when something missed.
// PLATFORM_STACK_YAML_CACHE=off turns it off (the benchmark measures both).
const fs = require('fs');
const path = require('path');
const v8 = require('v8');
const { cacheDir, pruneSiblings, thisRunFirst, writeAtomically } = require('./cache-files');
const { yamlSerializerKey } = require('./cache-keys');

const ROOT = path.join(__dirname, '..');
const SERIALIZER = path.join(ROOT, 'lib', 'core', 'yaml.ts');
// A direct dependency: npm installs it at the top of node_modules (resolving it costs 5 ms; a test
// checks that this is the js-yaml lib/core/yaml.ts loads).
const JS_YAML_PACKAGE = path.join(ROOT, 'node_modules', 'js-yaml', 'package.json');
const CACHE_DIR = cacheDir('yaml');
// Entries kept from earlier runs besides this run's (another branch's objects, say). The whole
// file is read at every synth, so it stays small: about 2.5 times what a synth of this repo writes.
const KEEP_CHARS = 2 * 1024 * 1024;

function useYamlCache() {
  if (process.env.PLATFORM_STACK_YAML_CACHE === 'off') return;
  const serializer = yamlSerializerKey(fs.readFileSync(SERIALIZER), fs.readFileSync(JS_YAML_PACKAGE), process.versions.v8);
  const file = path.join(CACHE_DIR, `${serializer}.v8`);
  let previous = new Map();
  try {
    const stored = v8.deserialize(fs.readFileSync(file));
    if (stored instanceof Map) previous = stored;
  } catch {
    // Nothing cached yet, or unreadable: start afresh.
  }
  const used = new Map();
  let missed = false;
  require(SERIALIZER).memoizeYaml({
    get(key) {
      const text = used.get(key) ?? previous.get(key);
      if (text !== undefined) used.set(key, text);
      return text;
    },
    set(key, text) {
      used.set(key, text);
      missed = true;
    },
  });
  process.once('exit', () => {
    if (missed) save(file, used, previous);
  });
}

function save(file, used, previous) {
  try {
    writeAtomically(file, v8.serialize(thisRunFirst(used, previous, KEEP_CHARS, (text) => text.length)));
    // Files of other serializers (an earlier js-yaml, an edited lib/core/yaml.ts): keep the 2 newest.
    pruneSiblings(file, 2);
  } catch {
    // A cache that cannot be written only costs the next run its speed.
  }
}

module.exports = { useYamlCache, SERIALIZER, JS_YAML_PACKAGE };
