// What the synth's caches in node_modules/.cache share (compile-cache.js, run-ts.js, synth-index.js's kept copy): where they live, how
// they write, and what they keep. Each is keyed by everything its output depends on, so a miss is
// only slower; a cache that cannot be written only costs the next run its speed.
const fs = require('fs');
const path = require('path');

/** The folder of one cache: in node_modules/.cache, or $PLATFORM_STACK_CACHE_DIR (the benchmark's cold runs: an empty one). */
function cacheDir(name) {
  return path.join(process.env.PLATFORM_STACK_CACHE_DIR || path.join(__dirname, '..', 'node_modules', '.cache'), name);
}

/** Writes `data` to `file` through a temporary file and a rename: a concurrent run never reads half of it. */
function writeAtomically(file, data) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

/** Removes the files (or folders) beside `file` ending like it, but for `file` and the `newest` most recent others (by modification time). */
function pruneSiblings(file, newest) {
  const dir = path.dirname(file);
  const suffix = path.extname(file);
  const others = fs.readdirSync(dir).filter((name) => name.endsWith(suffix) && name !== path.basename(file));
  const newestFirst = others.map((name) => ({ name, mtime: fs.statSync(path.join(dir, name)).mtimeMs })).sort((a, b) => b.mtime - a.mtime);
  for (const { name } of newestFirst.slice(newest)) fs.rmSync(path.join(dir, name), { recursive: true, force: true });
}

/** This run's entries, then earlier ones in their order (most recent first) while their sizes fit in `budget`. */
function thisRunFirst(current, earlier, budget, sizeOf) {
  const entries = new Map(current);
  let size = 0;
  for (const [key, value] of earlier) {
    if (entries.has(key)) continue;
    size += sizeOf(value);
    if (size > budget) break;
    entries.set(key, value);
  }
  return entries;
}

// Filesystems stamp times in ticks (Linux: a few milliseconds, FAT: 2 s); two writes in one tick
// leave a file the same times.
const RACY_MS = 2000;

/**
 * What identifies a file's bytes without reading them, as git's index tells a file unchanged: its
 * device, inode, size, and modification and status-change times (`stat` read with `bigint: true`,
 * for nanoseconds). Any write gives a file a new ctime, which no call can set back (`touch` and
 * `cp -p` set mtime only), and a file put in another's place has another inode. Undefined for a
 * file changed less than 2 s before `now` ("racy", as git calls it): a second write in the same
 * tick would keep its times, so only its content identifies it.
 */
function settledStatus(stat, now = Date.now()) {
  if (Number(stat.ctimeMs > stat.mtimeMs ? stat.ctimeMs : stat.mtimeMs) >= now - RACY_MS) return undefined;
  return `${stat.dev} ${stat.ino} ${stat.size} ${stat.mtimeNs} ${stat.ctimeNs}`;
}

/**
 * What identifies the code a require hook hands node for a file (filename -> identity), where the
 * hook knows it without reading the code: run-ts sets its cache entry's key (the transpiler, the
 * file and its source's hash) while it compiles the file, and the compile cache keys the module by
 * that instead of hashing the code again.
 */
const codeIdentities = new Map();

module.exports = { cacheDir, writeAtomically, pruneSiblings, thisRunFirst, settledStatus, codeIdentities };
