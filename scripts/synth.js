#!/usr/bin/env node
// The cdk8s app command (cdk8s.yaml `app:`) and `npm run synth`.
// Synthesizes main.ts from source into a staging folder beside the output folder, and swaps it in
// only when every environment synthesized: a bad input leaves the committed dist/ as it was.
// Output folder: $CDK8S_OUTDIR (set by `cdk8s synth`), else `dist`.
const fs = require('fs');
const path = require('path');
require('./run-ts');

const root = path.resolve(__dirname, '..');
const target = path.resolve(process.env.CDK8S_OUTDIR || path.join(root, 'dist'));
fs.mkdirSync(path.dirname(target), { recursive: true });
const staging = fs.mkdtempSync(path.join(path.dirname(target), `.${path.basename(target)}.staging-`));

try {
  const { buildApp } = require(path.join(root, 'main.ts'));
  buildApp({ outdir: staging }).synth();
} catch (error) {
  fs.rmSync(staging, { recursive: true, force: true });
  // Our validation errors are complete sentences; anything else keeps its stack.
  console.error(`synth failed, ${path.relative(process.cwd(), target) || '.'} left unchanged:\n${error.name === 'ValidationError' ? error.message : `${error.stack}\n(RUN_TS_SOURCE_MAPS=1 maps the stack to .ts lines)`}`);
  process.exit(1);
}

// Swap: the old output stays on disk until the new one is in place.
const previous = `${staging}.previous`;
const hadTarget = fs.existsSync(target);
if (hadTarget) fs.renameSync(target, previous);
fs.renameSync(staging, target);
if (hadTarget) fs.rmSync(previous, { recursive: true, force: true });
