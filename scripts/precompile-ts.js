#!/usr/bin/env node
// npm's `prepare` script, which `npm ci` and `npm install` run in this repository (not in a project
// that installs the package): transpiles the TypeScript this repository's synth loads (main.ts, app/,
// lib/; not imports/, which only the prometheusOperator option loads and the app does not set) into
// run-ts's cache, so that a fresh clone's first synth, CI's, loads no compiler (swc was a tenth of
// its instructions). Same cache, same keys (the @swc/core version, the swc options, the file and
// its source's hash, which it records by the file's status as the synth does): a source edited
// later misses and is transpiled then, as before. Then it loads the
// modules the synth loads (main.ts's, cdk8s's, cdk8s-plus's), as the synth loads them, so that V8's
// compiled code of each is in the compile cache too (compile-cache.js), as pip compiles Python's
// .pyc files at install: modules are loaded, no synth runs.
// Never fails an install: without swc (`npm ci --omit=dev`) there is nothing to run the synth with.
// Reports on stderr: `npm pack --json`, which runs prepare too, owns stdout.
const fs = require('fs');
const path = require('path');

const ROOT = path.join(__dirname, '..');
const SOURCES = ['main.ts', 'app', 'lib'];

/** Every .ts file (not .d.ts) of `entry`, a file or a folder. */
function typeScriptFiles(entry) {
  const at = path.join(ROOT, entry);
  if (!fs.statSync(at).isDirectory()) return [at];
  return fs
    .readdirSync(at, { recursive: true })
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
    .sort()
    .map((file) => path.join(at, file));
}

try {
  require('./compile-cache').takeBeforeRun(path.join('scripts', 'synth.js'));
  require('./lazy-yaml');
  const { transpiled } = require('./run-ts');
  const files = SOURCES.flatMap(typeScriptFiles);
  for (const file of files) transpiled(file);
  console.error(`precompile-ts: ${files.length} TypeScript files in run-ts's cache`);
  require(path.join(ROOT, 'main.ts'));
  console.error("precompile-ts: the synth's modules in the compile cache");
} catch (error) {
  console.error(`precompile-ts: skipped (${error.message.split('\n')[0]}); the first synth transpiles instead`);
}
