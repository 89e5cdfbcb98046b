#!/usr/bin/env node
// `npm run engines`: builds or installs every engine of table.js that is missing, one line per
// engine with the time it took; names the engine that failed and exits 1. Idempotent: engines in
// place are only listed. `npm test` runs it first, so a fresh clone gets its engines, never skips.
// Arguments: engine names to limit it to (default: all).
const { ENGINES } = require('./table');
const { install, isInstalled } = require('./build');

function describe(engine) {
  return `${engine.name} ${engine.version === 'debian' ? `(Debian ${engine.package})` : engine.version}`;
}

function main(names) {
  const unknown = names.filter((n) => !ENGINES.some((e) => e.name === n));
  if (unknown.length) throw new Error(`no engine named ${unknown.join(', ')} (engines: ${ENGINES.map((e) => e.name).join(', ')})`);
  const engines = names.length ? ENGINES.filter((e) => names.includes(e.name)) : ENGINES;
  const started = Date.now();
  let built = 0;
  for (const engine of engines) {
    if (isInstalled(engine)) {
      console.log(`engines: ${describe(engine)}: in place`);
      continue;
    }
    console.log(`engines: ${describe(engine)}: ${engine.kind === 'apt' ? 'installing' : 'building'} ${engine.binaries.join(', ')} ...`);
    const t0 = Date.now();
    try {
      install(engine);
    } catch (error) {
      console.error(`engines: FAILED: ${describe(engine)} after ${((Date.now() - t0) / 1000).toFixed(1)} s\n${error.message}`);
      process.exit(1);
    }
    built++;
    console.log(`engines: ${describe(engine)}: ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  if (built) console.log(`engines: ${built} built or installed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

try {
  main(process.argv.slice(2));
} catch (error) {
  console.error(`engines: ${error.message}`);
  process.exit(1);
}
