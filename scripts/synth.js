#!/usr/bin/env node
// The cdk8s app command (cdk8s.yaml `app:`) and `npm run synth`.
// Synthesizes main.ts from source in memory, then stages the output in a folder beside the output
// folder and swaps it in: a bad input, or a failure while staging, leaves the committed dist/ as it
// was. Output folder: $CDK8S_OUTDIR (set by `cdk8s synth`), else `dist`.
const { Buffer } = require('buffer');
const fs = require('fs');
const path = require('path');
require('./compile-cache');
require('./lazy-yaml');
require('./run-ts');
require('./yaml-cache').useYamlCache();

const root = path.resolve(__dirname, '..');
const target = path.resolve(process.env.CDK8S_OUTDIR || path.join(root, 'dist'));

function fail(error) {
  // Our validation errors are complete sentences; anything else keeps its stack.
  console.error(`synth failed, ${path.relative(process.cwd(), target) || '.'} left unchanged:\n${error.name === 'ValidationError' ? error.message : `${error.stack}\n(RUN_TS_SOURCE_MAPS=1 maps the stack to .ts lines)`}`);
  process.exit(1);
}

let rendered;
try {
  const { buildApp } = require(path.join(root, 'main.ts'));
  rendered = buildApp({ outdir: target }).render();
} catch (error) {
  fail(error);
}

/** True when `dir` holds exactly the rendered folders and files, nothing else. */
function sameTree(dir, { folders, files }) {
  const expected = new Set([...folders, ...files.keys()]);
  try {
    const entries = fs.readdirSync(dir, { recursive: true });
    return entries.length === expected.size && entries.every((entry) => expected.has(entry));
  } catch {
    return false;
  }
}

/** True when `file` holds exactly `bytes`. */
function holds(file, bytes) {
  try {
    return fs.statSync(file).size === bytes.length && fs.readFileSync(file).equals(bytes);
  } catch {
    return false;
  }
}

// What is on disk already: a file holding the rendered bytes needs no writing, and an output folder
// holding exactly the rendered files needs no swap.
const bytes = new Map([...rendered.files].map(([file, text]) => [file, Buffer.from(text)]));
const current = new Set([...bytes.keys()].filter((file) => holds(path.join(target, file), bytes.get(file))));
if (current.size === bytes.size && sameTree(target, rendered)) process.exit(0);

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
