// Hashes of files by their status (cache-files.js `settledStatus`), kept in node_modules/.cache: a
// file whose status is the one recorded with its hash needs no reading to hash, as git's index
// spares `git status` reading unchanged files. The hash itself is what the caller's key is made of,
// so a record only spares work: a key never depends on whether a file was racy. Used for dist/'s
// files (synth-index.js checks each file it serves against its hash: 1.95 MB) and the TypeScript
// sources (run-ts.js finds a file's transpiled output by its source's hash: 0.45 MB; the compile
// cache keys the output by run-ts's key rather than hashing it, 0.48 MB): 0.022 G of a warm
// synth's 1.56 G instructions. A file with no settled status (changed in the last 2 s) is hashed
// and not recorded. A store holds only the files one run asked for.
const fs = require('fs');
const { pruneSiblings, writeAtomically } = require('./cache-files');

// Stores of one kind kept beside each other: one per output folder (dist/, the benchmark's and tests' folders).
const KEEP_STORES = 8;

/**
 * The store in `file`, of hashes made by `key` (another key: none recorded). `hash(name, status,
 * compute)` answers for the file `name` whose settled status, taken before its bytes were read, is
 * `status` (undefined: none) from the record, else computes it; `save()` writes what this run asked
 * for when that differs from the record.
 */
function hashesByStatus(file, key) {
  let recorded = {};
  try {
    const saved = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (saved.key === key) recorded = saved.hashes;
  } catch {
    // None yet, or unreadable: every file is hashed.
  }
  const asked = {};
  let changed = false;
  return {
    hash(name, status, compute) {
      const entry = recorded[name];
      if (status !== undefined && entry?.[0] === status) {
        asked[name] = entry;
        return entry[1];
      }
      const hash = compute();
      if (status !== undefined) {
        asked[name] = [status, hash];
        changed = true;
      }
      return hash;
    },
    save() {
      if (!changed && Object.keys(asked).length === Object.keys(recorded).length) return;
      try {
        writeAtomically(file, JSON.stringify({ key, hashes: asked }));
        pruneSiblings(file, KEEP_STORES - 1);
      } catch {
        // A cache that cannot be written only costs the next run its speed.
      }
    },
  };
}

module.exports = { hashesByStatus };
