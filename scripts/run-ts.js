// Loads TypeScript sources straight from the work tree: a require hook that strips types with swc
// (no type-check: `npm test` runs tsc), with the options of .swcrc, as jest's transformer
// (@swc/jest) reads them. Output is cached under node_modules/.cache, a folder per transpiler (the
// @swc/core version and the options) and a file per source (keys in cache-keys.js: the file and
// its source's hash, known by the file's status while it does not change, hashes-by-status.js), so
// a run always reflects the current sources and a warm run loads no compiler or source. `npm ci`
// and `npm install` fill it ahead of the first synth (scripts/precompile-ts.js).
// Files keep their own __dirname, so paths such as dashboards/ resolve as in the compiled package.
const fs = require('fs');
const Module = require('module');
const path = require('path');
const { cacheDir, codeIdentities, pruneSiblings, settledStatus, writeAtomically } = require('./cache-files');
const { sourceHash, transpileEntryKey, transpilerKey } = require('./cache-keys');
const { hashesByStatus } = require('./hashes-by-status');

const ROOT = path.join(__dirname, '..');
// Stack traces that point at lines of the .ts sources, on request: the output then carries inline
// source maps (3 times the code to read and compile) and node parses the maps of every dependency
// too (about +100 ms per synth, measured).
const SOURCE_MAPS = process.env.RUN_TS_SOURCE_MAPS === '1';
const SWC_OPTIONS = { ...JSON.parse(fs.readFileSync(path.join(ROOT, '.swcrc'), 'utf8')), swcrc: false, sourceMaps: SOURCE_MAPS ? 'inline' : false };
// A direct dependency: npm installs it at the top of node_modules (resolving it costs milliseconds).
const SWC_VERSION = JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', '@swc', 'core', 'package.json'), 'utf8')).version;
const CACHE_DIR = path.join(cacheDir('run-ts'), transpilerKey(SWC_VERSION, SWC_OPTIONS));
// Transpiled files kept: several times the project's sources (about 50), so branches and edits hit.
const KEEP_FILES = 1000;

// The sources' hashes, by file status: a source that did not change is not read.
const sourceHashes = hashesByStatus(path.join(cacheDir('source-hashes'), 'run-ts.hashes'), 'sha1 of the source');
process.once('exit', (code) => code === 0 && sourceHashes.save());

let swc;
function transpile(source, filename) {
  swc ??= require('@swc/core');
  return swc.transformSync(source, { ...SWC_OPTIONS, filename }).code;
}

let pruned = false;
function store(file, code) {
  try {
    writeAtomically(file, code);
    // Once a run: older files beyond the newest KEEP_FILES; of other transpilers' folders, the 2 newest.
    if (!pruned) {
      pruned = true;
      pruneSiblings(file, KEEP_FILES - 1);
      pruneSiblings(CACHE_DIR, 2);
    }
  } catch {
    // A cache that cannot be written only costs the next run its speed.
  }
}

/** The JavaScript of the TypeScript file `filename`, and its cache entry's key: from the cache, else transpiled and cached. */
function transpiledWithKey(filename) {
  // The status before the bytes: a write in between changes the status the hash is recorded with.
  const status = settledStatus(fs.statSync(filename, { bigint: true }));
  let source;
  const read = () => (source ??= fs.readFileSync(filename, 'utf8'));
  const key = transpileEntryKey(path.basename(CACHE_DIR), filename, sourceHashes.hash(filename, status, () => sourceHash(read())));
  const cached = path.join(CACHE_DIR, `${key}.js`);
  try {
    return { code: fs.readFileSync(cached, 'utf8'), key };
  } catch {
    const code = transpile(read(), filename);
    store(cached, code);
    return { code, key };
  }
}

const transpiled = (filename) => transpiledWithKey(filename).code;

function compileTypeScript(module, filename) {
  const { code, key } = transpiledWithKey(filename);
  codeIdentities.set(filename, key);
  try {
    module._compile(code, filename);
  } finally {
    codeIdentities.delete(filename);
  }
}

Module._extensions['.ts'] = compileTypeScript;
if (SOURCE_MAPS) process.setSourceMapsEnabled(true);

// For scripts/precompile-ts.js (npm's prepare), which fills the cache ahead of the first synth.
module.exports = { transpiled };
