// A V8 code cache for every CommonJS module the synth loads (cdk8s, cdk8s-plus, the library), as
// Node 22's module.enableCompileCache() does natively. Most of a synth is code running for the first
// time in the process; with the cache V8 skips parsing and compiling it. The cache is taken when the
// process exits, so it also holds the functions compiled lazily during the run. Keyed by file name,
// source (installed packages: file status), V8 version and node flags: a changed file simply misses.
// Files live in node_modules/.cache.
const crypto = require('crypto');
const fs = require('fs');
const Module = require('module');
const path = require('path');
const vm = require('vm');

const CACHE_DIR = path.join(__dirname, '..', 'node_modules', '.cache', 'compile-cache');
const toWrite = [];

// V8 rejects code compiled under other flags (--cpu-prof, heap sizes): each set of flags gets its
// own entries, so runs with and without them do not overwrite each other's.
const FLAGS = `${process.versions.v8} ${process.execArgv.join(' ')}`;

const INSTALLED = `${path.sep}node_modules${path.sep}`;

/**
 * What identifies the source of a module. A file of an installed package, by its file status, as
 * git's index tells changed files: npm writes packages anew on every install, and any write gives
 * the file a new ctime, which no call can set back (hashing these 5 MB was a twentieth of a
 * synth's instructions). The library's own code (transpiled by run-ts) by its content.
 */
function sourceIdentity(filename, content) {
  if (!filename.includes(INSTALLED)) return content;
  const stat = fs.statSync(filename, { bigint: true });
  return `${stat.dev} ${stat.ino} ${stat.size} ${stat.mtimeNs} ${stat.ctimeNs} ${content.length}`;
}

function cacheFile(filename, content) {
  const key = crypto.createHash('sha1').update(FLAGS).update(filename).update(sourceIdentity(filename, content)).digest('hex');
  return path.join(CACHE_DIR, key);
}

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

// PLATFORM_STACK_COMPILE_CACHE=off runs without it (the benchmark measures both).
if (process.env.PLATFORM_STACK_COMPILE_CACHE !== 'off') Module.prototype._compile = function compileWithCache(content, filename) {
  // A shebang line is not JavaScript inside the module wrapper.
  const source = Module.wrap(content.startsWith('#!') ? `//${content}` : content);
  const file = cacheFile(filename, content);
  let cachedData;
  try {
    cachedData = fs.readFileSync(file);
  } catch {
    // Not cached yet.
  }
  const script = new vm.Script(source, { filename, cachedData });
  if (cachedData === undefined || script.cachedDataRejected) toWrite.push({ script, file });
  const wrapper = script.runInThisContext({ displayErrors: true });
  return wrapper.call(this.exports, this.exports, makeRequire(this), this, filename, path.dirname(filename));
};

process.once('exit', () => {
  if (toWrite.length === 0) return;
  try {
    fs.mkdirSync(CACHE_DIR, { recursive: true });
    for (const { script, file } of toWrite) {
      // Write then rename: a concurrent run never reads a half-written file.
      const tmp = `${file}.${process.pid}`;
      fs.writeFileSync(tmp, script.createCachedData());
      fs.renameSync(tmp, file);
    }
  } catch {
    // A cache that cannot be written only costs the next run its speed.
  }
});
