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

module.exports = { cacheDir, writeAtomically, pruneSiblings, thisRunFirst };
