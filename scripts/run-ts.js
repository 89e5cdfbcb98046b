// Loads TypeScript sources straight from the work tree: a require hook that strips types with swc
// (no type-check: `npm test` runs tsc). Output is cached under node_modules/.cache keyed by a hash
// of the source, so a run always reflects the current sources and a warm run loads no compiler.
// Files keep their own __dirname, so paths such as dashboards/ resolve as in the compiled package.
const crypto = require('crypto');
const fs = require('fs');
const Module = require('module');
const path = require('path');
const { cacheDir, writeAtomically } = require('./cache-files');

const CACHE_DIR = cacheDir('run-ts');
// Stack traces that point at lines of the .ts sources, on request: the output then carries inline
// source maps (3 times the code to read and compile) and node parses the maps of every dependency
// too (about +100 ms per synth, measured).
const SOURCE_MAPS = process.env.RUN_TS_SOURCE_MAPS === '1';
const CACHE_FORMAT = `swc-cjs-es2022-v1${SOURCE_MAPS ? '-maps' : ''}`;

let swc;
function transpile(source, filename) {
  swc ??= require('@swc/core');
  return swc.transformSync(source, {
    filename,
    sourceMaps: SOURCE_MAPS ? 'inline' : false,
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs' },
  }).code;
}

function compileTypeScript(module, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  const key = crypto.createHash('sha256').update(CACHE_FORMAT).update(filename).update(source).digest('hex');
  const cached = path.join(CACHE_DIR, `${key}.js`);
  let code;
  try {
    code = fs.readFileSync(cached, 'utf8');
  } catch {
    code = transpile(source, filename);
    try {
      writeAtomically(cached, code);
    } catch {
      // A cache that cannot be written only costs the next run its speed.
    }
  }
  module._compile(code, filename);
}

Module._extensions['.ts'] = compileTypeScript;
if (SOURCE_MAPS) process.setSourceMapsEnabled(true);
