#!/usr/bin/env node
// The cdk8s app command (cdk8s.yaml `app:`) and `npm run synth`.
// Synthesizes main.ts from source in memory, then stages the output in a folder beside the output
// folder and swaps it in: a bad input, or a failure while staging, leaves the committed dist/ as it
// was. Output folder: $CDK8S_OUTDIR (set by `cdk8s synth`), else `dist`.
// Ends with the plan of what changed in the output folder (scripts/plan.js): --quiet prints none,
// --json prints it as JSON, --dry-run prints it and writes nothing (`npm run plan`).
const { Buffer } = require('buffer');
const fs = require('fs');
const path = require('path');
require('./compile-cache');
require('./lazy-yaml');
require('./run-ts');
const { settledStatus } = require('./cache-files');
const { useSynthIndex, INDEX_FILE } = require('./synth-index');

const root = path.resolve(__dirname, '..');
const target = path.resolve(process.env.CDK8S_OUTDIR || path.join(root, 'dist'));
const OPTIONS = ['--quiet', '--json', '--dry-run'];
const options = new Set(process.argv.slice(2));
for (const option of options) {
  if (!OPTIONS.includes(option)) {
    console.error(`synth: unknown option ${option} (options: ${OPTIONS.join(', ')})`);
    process.exit(1);
  }
}

/**
 * Prints `text` and a line break on stdout, written straight to its file descriptor: console.log
 * first builds node's console and stdout stream, 1% of a warm synth's instructions for one line.
 * Where that write fails (a non-blocking stdout that is full, a closed pipe, a full disk), the rest
 * goes through console.log, as before: it waits, or drops the text.
 */
function print(text) {
  const bytes = Buffer.from(`${text}\n`);
  let written = 0;
  try {
    while (written < bytes.length) written += fs.writeSync(1, bytes, written);
  } catch {
    console.log(bytes.subarray(written, bytes.length - 1).toString());
  }
}

function fail(error) {
  // Our validation errors are complete sentences; anything else keeps its stack.
  console.error(`synth failed, ${path.relative(process.cwd(), target) || '.'} left unchanged:\n${error.name === 'ValidationError' ? error.message : `${error.stack}\n(RUN_TS_SOURCE_MAPS=1 maps the stack to .ts lines)`}`);
  process.exit(1);
}

/**
 * Every file below `dir` (relative path -> bytes), the settled status of each that has one
 * (cache-files.js), and every entry, folders included.
 */
function readTree(dir) {
  const files = new Map();
  const statuses = new Map();
  const entries = new Set();
  const now = Date.now();
  try {
    for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
      const relative = path.relative(dir, path.join(entry.parentPath ?? entry.path, entry.name));
      entries.add(relative);
      if (!entry.isFile()) continue;
      // Its status from the descriptor it is read through, taken before the bytes (a write in between
      // gives the file a status other than the one its hash is recorded with).
      const fd = fs.openSync(path.join(dir, relative), 'r');
      try {
        const status = settledStatus(fs.fstatSync(fd, { bigint: true }), now);
        if (status !== undefined) statuses.set(relative, status);
        files.set(relative, fs.readFileSync(fd));
      } finally {
        fs.closeSync(fd);
      }
    }
  } catch {
    // No output folder yet.
  }
  return { files, statuses, entries };
}

// What is on disk already: the index of the last synth serves this one (scripts/synth-index.js), a
// file holding the rendered bytes needs no writing, and an output folder holding exactly the
// rendered files needs no swap.
const before = readTree(target);
let rendered;
let index;
try {
  const indexOf = useSynthIndex(target, before.files, before.statuses);
  const { buildApp } = require(path.join(root, 'main.ts'));
  rendered = buildApp({ outdir: target }).render();
  index = indexOf(rendered.files);
} catch (error) {
  fail(error);
}
const bytes = new Map([...rendered.files, [INDEX_FILE, index]].map(([file, text]) => [file, Buffer.from(text)]));
const current = new Set([...bytes.keys()].filter((file) => before.files.get(file)?.equals(bytes.get(file))));
const expected = new Set([...rendered.folders, ...bytes.keys()]);
const upToDate = current.size === bytes.size && before.entries.size === expected.size && [...before.entries].every((entry) => expected.has(entry));

/** Prints the plan of this synth against what the output folder held. */
function printPlan() {
  if (options.has('--quiet')) return;
  const { planChanges, formatPlan, formatFirstPlan, hasChanges, holdsManifests } = require('./plan');
  const outdir = path.relative(process.cwd(), target) || '.';
  if (!options.has('--json') && !holdsManifests(before.files)) {
    print(formatFirstPlan(rendered.files, outdir));
    return;
  }
  // An unchanged file's old text is its new one: only changed files are decoded and parsed.
  const was = new Map([...before.files].map(([file, content]) => [file, current.has(file) ? rendered.files.get(file) : content.toString('utf8')]));
  const plan = planChanges(was, rendered.files);
  if (options.has('--json')) {
    const changes = Object.values(plan.environments).some(hasChanges);
    print(JSON.stringify({ outdir, dryRun: options.has('--dry-run'), changes, ...plan }, null, 2));
  } else print(formatPlan(plan, outdir));
}

if (upToDate || options.has('--dry-run')) {
  printPlan();
  process.exit(0);
}

// Stage. A file whose bytes are already in the output folder is hard-linked from there rather than
// written again: creating files is most of the I/O, and slow on a busy disk.
fs.mkdirSync(path.dirname(target), { recursive: true });
const staging = fs.mkdtempSync(path.join(path.dirname(target), `.${path.basename(target)}.staging-`));
try {
  for (const folder of rendered.folders) fs.mkdirSync(path.join(staging, folder), { recursive: true });
  for (const [file, content] of bytes) {
    const staged = path.join(staging, file);
    if (current.has(file)) {
      try {
        fs.linkSync(path.join(target, file), staged);
        continue;
      } catch {
        // No hard links here: write it.
      }
    }
    fs.writeFileSync(staged, content);
  }
} catch (error) {
  fs.rmSync(staging, { recursive: true, force: true });
  fail(error);
}

// Swap: the old output stays on disk until the new one is in place.
const previous = `${staging}.previous`;
const hadTarget = fs.existsSync(target);
if (hadTarget) fs.renameSync(target, previous);
fs.renameSync(staging, target);
if (hadTarget) fs.rmSync(previous, { recursive: true, force: true });
printPlan();
