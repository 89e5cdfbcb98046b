// A V8 code cache for every CommonJS module the synth loads (cdk8s, cdk8s-plus, the library). Most
// of a synth is code running for the first time in the process; with the cache V8 skips parsing
// and compiling it. Where node has its own (module.enableCompileCache(), Node >= 22.1) that is
// used. On Node 20 this file does the same: the cache is taken when the process exits, so it also
// holds the functions compiled lazily during the run; keys in cache-keys.js (file name, the source,
// an installed file's status or run-ts's key, V8 version, node flags, the program): a changed file
// simply misses. All entries of a program live in one file, a pack per program and set of flags
// (reading 200 small files cost more than their content), rewritten at exit only when something
// missed and the run succeeded.
const { Buffer } = require('buffer');
const fs = require('fs');
const Module = require('module');
const path = require('path');
const vm = require('vm');
const { cacheDir, codeIdentities, pruneSiblings, settledStatus, thisRunFirst, writeAtomically } = require('./cache-files');
const { EVAL_FLAGS, compileEntryKey, compileFlags, compilePackKey } = require('./cache-keys');

const CACHE_DIR = cacheDir('compile-cache');
// Entries kept from earlier runs besides this run's (project copies, other programs), newest first.
// The whole pack is read at every run, so this stays about half of what a synth loads.
const KEEP_BYTES = 2 * 1024 * 1024;

const FLAGS = compileFlags(process.versions.v8, process.execArgv);
const ROOT = path.join(__dirname, '..');

/**
 * The program this process runs (`scripts/synth.js`, or `-e` for code given to node): a pack per
 * program and set of flags. An entry is taken again only when it misses, so a program that runs
 * part of the synth's code (a test, a benchmark's snippet) would otherwise leave entries holding
 * only the functions it compiled, and every later synth would be served those.
 */
function runningProgram() {
  if (process.execArgv.some((arg) => EVAL_FLAGS.includes(arg.split('=')[0])) || !process.argv[1]) return '-e';
  return path.relative(ROOT, path.resolve(process.argv[1]));
}

let program = runningProgram();
const packFile = () => path.join(CACHE_DIR, `modules-${compilePackKey(FLAGS, program)}.pack`);

const INSTALLED = `${path.sep}node_modules${path.sep}`;

/**
 * What identifies the source of a module. A file of an installed package, by its file status
 * (cache-files.js): npm writes packages anew on every install (hashing these 5 MB was a twentieth
 * of a synth's instructions). The library's own code, by what run-ts keyed its transpiled code by.
 * Any other file, and an installed file written in the last 2 s, by its content.
 */
function sourceIdentity(filename, content) {
  const known = codeIdentities.get(filename);
  if (known !== undefined) return `${known} ${content.length}`;
  const status = filename.includes(INSTALLED) ? settledStatus(fs.statSync(filename, { bigint: true })) : undefined;
  return status === undefined ? content : `${status} ${content.length}`;
}

/**
 * The pack: a 4-byte index length, the index (JSON: key -> [offset, length, code length, taken
 * before a run] in what follows), then each entry's code cache. Read once, at the first module; an
 * entry's bytes are a view of that one buffer, its code length how much of the module's source V8
 * compiled. An entry taken before a run (`npm ci`'s prepare script only loads the modules) holds
 * the functions their loading compiled, not those the synth compiles later: the first run it serves
 * takes it again at exit.
 */
function readPack() {
  const entries = new Map();
  try {
    const pack = fs.readFileSync(packFile());
    const indexLength = pack.readUInt32LE(0);
    const data = pack.subarray(4 + indexLength);
    for (const [key, [offset, length, codeLength, beforeRun]] of Object.entries(JSON.parse(pack.toString('utf8', 4, 4 + indexLength)))) {
      if (Number.isInteger(codeLength)) entries.set(key, { bytes: data.subarray(offset, offset + length), codeLength, beforeRun: beforeRun === true });
    }
  } catch {
    // Nothing cached yet, or unreadable: start afresh.
  }
  return entries;
}

function writePack(entries) {
  const index = {};
  let offset = 0;
  for (const [key, { bytes, codeLength, beforeRun }] of entries) {
    index[key] = beforeRun ? [offset, bytes.length, codeLength, true] : [offset, bytes.length, codeLength];
    offset += bytes.length;
  }
  const indexBytes = Buffer.from(JSON.stringify(index));
  const length = Buffer.alloc(4);
  length.writeUInt32LE(indexBytes.length, 0);
  writeAtomically(packFile(), Buffer.concat([length, indexBytes, ...[...entries.values()].map((entry) => entry.bytes)]));
  // Packs of other programs and flags (a test's, a profiling run's): keep the 4 newest.
  pruneSiblings(packFile(), 4);
}

let previous;
const used = new Map();
const toCreate = [];
// Set by `takeBeforeRun()`: this process only loads modules, it runs no synth.
let beforeRun = false;

/** The `require` a module sees, as Node builds it (resolve, resolve.paths, main, cache, extensions). */
function makeRequire(module) {
  const require = (id) => module.require(id);
  require.resolve = (request, options) => Module._resolveFilename(request, module, false, options);
  require.resolve.paths = (request) => Module._resolveLookupPaths(request, module);
  require.main = process.mainModule;
  require.extensions = Module._extensions;
  require.cache = Module._cache;
  return require;
}

// V8 loses the loader of import() when it compiles code from a code cache (node issue #43663:
// ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING on the second run), so a module whose code may call
// import() (the word and a parenthesis, comments between included; `new Function('return
// import(x)')` too) is left to node's own compiler. Few do: 3 of the 134 modules a synth loads.
const MAY_IMPORT = /\bimport\s*(?:\/\*[\s\S]*?\*\/\s*|\/\/[^\n]*\n\s*)*\(/;
const nodeCompile = Module.prototype._compile;

// cdk8s, cdk8s-plus and constructs end each file with its source map inline (2.9 MB in all), which
// V8 scans character by character when it compiles the file: a tenth of a cold synth's parsing.
// Node reads such a map only in its own _compile, which this cache leaves modules to when source
// maps are on, so the comment is dropped from what V8 compiles. The source map of a file that names one
// by URL is kept.
// An entry records where the code ends (the same source, the entry's key, ends at the same place),
// so only a module compiled afresh is searched.
const INLINE_SOURCE_MAP = '\n//# sourceMappingURL=data:';

function withoutInlineSourceMap(content) {
  // Searched forwards: V8 skips ahead through the code quickly, where lastIndexOf steps back one
  // character at a time over the whole map (2.9 MB of them: 0.02 G instructions per cold synth).
  // The first one ends the file exactly when it is the last one (any later one starts a line).
  let at = content.indexOf(INLINE_SOURCE_MAP);
  if (at < 0) return content;
  if (!endsFile(content, at)) at = content.lastIndexOf(INLINE_SOURCE_MAP);
  // Only a comment that ends the file: its last line, maybe followed by a line break.
  return endsFile(content, at) ? content.slice(0, at + 1) : content;
}

/** True when the line starting after `at` (a line break) is the file's last, maybe followed by a line break. */
function endsFile(content, at) {
  const end = content.indexOf('\n', at + 1);
  return end < 0 || end === content.length - 1;
}

function compileWithCache(content, filename) {
  // Stack traces through source maps (--enable-source-maps, RUN_TS_SOURCE_MAPS=1): node finds a
  // module's map only when its own compiler loads the module.
  if (process.sourceMapsEnabled) return nodeCompile.call(this, content, filename);
  const key = compileEntryKey(FLAGS, filename, sourceIdentity(filename, content));
  previous ??= readPack();
  const entry = previous.get(key);
  const code = entry === undefined ? withoutInlineSourceMap(content) : content.slice(0, entry.codeLength);
  // Only a module that passed this check is in the pack: a hit needs no second look.
  if (entry === undefined && MAY_IMPORT.test(code)) return nodeCompile.call(this, content, filename);
  // A shebang line is not JavaScript inside the module wrapper.
  const source = Module.wrap(code.startsWith('#!') ? `//${code}` : code);
  const script = new vm.Script(source, { filename, cachedData: entry?.bytes });
  if (entry === undefined || script.cachedDataRejected || entry.beforeRun) toCreate.push({ script, key, codeLength: code.length });
  else used.set(key, entry);
  const wrapper = script.runInThisContext({ displayErrors: true });
  return wrapper.call(this.exports, this.exports, makeRequire(this), this, filename, path.dirname(filename));
}

function touch(file) {
  try {
    const now = new Date();
    fs.utimesSync(file, now, now);
  } catch {
    // Only its place in the pruning order is lost.
  }
}

function saveAtExit() {
  process.once('exit', (code) => {
    // A run that failed stopped part way: its code holds only what it compiled until then.
    if (code !== 0) return;
    if (toCreate.length === 0) {
      // Served from the pack: mark it used, since packs are pruned by age (pruneSiblings), and a
      // pack that is only read would otherwise go first when programs of other flags run.
      if (used.size > 0) touch(packFile());
      return;
    }
    try {
      for (const { script, key, codeLength } of toCreate) used.set(key, { bytes: script.createCachedData(), codeLength, beforeRun });
      writePack(thisRunFirst(used, previous, KEEP_BYTES, (entry) => entry.bytes.length));
    } catch {
      // A cache that cannot be written only costs the next run its speed.
    }
  });
}

/**
 * For npm's prepare script, which loads the modules of `synthProgram` (`scripts/synth.js`) ahead of
 * its first run, into that program's pack: the entries are taken again by the first run they serve.
 */
function takeBeforeRun(synthProgram) {
  program = synthProgram;
  beforeRun = true;
}

module.exports = { takeBeforeRun };

// Which cache this node gets: its own, ours, or none (PLATFORM_STACK_COMPILE_CACHE=off).
if (process.env.PLATFORM_STACK_COMPILE_CACHE !== 'off') {
  if (typeof Module.enableCompileCache === 'function') Module.enableCompileCache(path.join(CACHE_DIR, 'node'));
  else {
    Module.prototype._compile = compileWithCache;
    saveAtExit();
  }
}
