#!/usr/bin/env node
// `npm run bench`: every figure is a ratio measured side by side in this run, against its
// baseline, because these machines are noisy. Then each system's benchmark in scripts/bench/.
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const RUNS = Number(process.env.BENCH_RUNS || 15);

/** Runs node with `args` (behind `prefix`, a wrapper command, if any) in the repository; throws with its stderr when it fails. */
function spawnNode(args, env, prefix = []) {
  const [command, ...rest] = [...prefix, process.execPath, ...args];
  const result = spawnSync(command, rest, { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8' });
  if (result.error) throw new Error(`${command}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${[...prefix, 'node', ...args].join(' ')} failed:\n${result.stderr.slice(-2000)}`);
  return result;
}

function wallMs(args, env = {}) {
  const start = process.hrtime.bigint();
  spawnNode(args, env);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/**
 * Instructions the process executes, all its threads (V8's background compiler and GC helpers
 * too), counted by valgrind's callgrind: the machine's load does not change them, so the issues'
 * figures are given in them. Runs are about 50 times slower than without valgrind. Valgrind runs
 * one thread at a time; with its default lock, how much of V8's background work finishes before
 * the process exits varied from run to run (one warm synth: 1.43-1.50 G), and `--fair-sched=yes`
 * (threads take turns) makes counts repeat within 1% (1.498-1.509 G; the floor 1.006-1.014 G).
 */
function instructions(args, env = {}) {
  let result;
  try {
    result = spawnNode(args, env, ['valgrind', '--tool=callgrind', '--fair-sched=yes', '--callgrind-out-file=/dev/null']);
  } catch (error) {
    if (/^valgrind: .*ENOENT/.test(error.message)) throw new Error(`instruction counts need valgrind (Debian: apt-get install valgrind): ${error.message}`);
    throw error;
  }
  const collected = /Collected : (\d+)/.exec(result.stderr);
  if (!collected) throw new Error(`valgrind printed no instruction count:\n${result.stderr.slice(-2000)}`);
  return Number(collected[1]);
}

/** A result against the floor: `shown` (its time or count), the median ratio and the pairs' quartiles. */
// `digits`: instruction counts repeat within 1% (valgrind --fair-sched=yes), so their ratios are given to three.
const ratioLine = (r, shown, digits = 2) => `${shown}   ratio ${r.ratio.toFixed(digits)}x the floor (pairs' quartiles ${r.low.toFixed(digits)}-${r.high.toFixed(digits)})`;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Each command against the baseline, side by side: `rounds` rounds, each running every command right
 * after (or, every other round, right before) a run of the baseline, so the two runs of a pair see
 * the same machine. A command's result: its median (time or instructions, what `run` returns), and
 * the median of its pairs' ratios to the baseline with their quartiles.
 */
function againstBaseline(baseline, commands, rounds = RUNS) {
  for (const c of [baseline, ...commands]) c.run(); // warm the file cache and the transpile cache
  const base = [];
  const times = commands.map(() => []);
  const ratios = commands.map(() => []);
  for (let i = 0; i < rounds; i++) {
    commands.forEach((c, j) => {
      let b;
      let t;
      if (i % 2 === 0) {
        b = baseline.run();
        t = c.run();
      } else {
        t = c.run();
        b = baseline.run();
      }
      base.push(b);
      times[j].push(t);
      ratios[j].push(t / b);
    });
  }
  const quartile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) * q)];
  return [{ value: median(base) }, ...times.map((ts, j) => ({ value: median(ts), ratio: median(ratios[j]), low: quartile(ratios[j], 0.25), high: quartile(ratios[j], 0.75) }))];
}

/** A scratch folder inside the work tree (not /tmp, whose speed varies with what else lives there), removed after `use`. */
function withScratch(use) {
  fs.mkdirSync(path.join(ROOT, '.bench'), { recursive: true });
  const scratch = fs.mkdtempSync(path.join(ROOT, '.bench', 'synth-'));
  try {
    return use(scratch);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * The synth runs the benchmarks compare, each measured by `measure` (wall time or instructions),
 * node started with `nodeFlags`; output goes to `scratch`.
 */
function synthRuns(scratch, measure, nodeFlags = []) {
  const synth = (env) => measure([...nodeFlags, path.join('scripts', 'synth.js')], env);
  // The floor: loading the two libraries every cdk8s app loads, no cache of any kind.
  const floor = { run: () => measure([...nodeFlags, '-e', "require('cdk8s'); require('cdk8s-plus-27')"]) };
  // `npm run synth` over an up-to-date dist/ (the usual case: CI, or a change that touches few files).
  const app = { run: () => synth({ CDK8S_OUTDIR: path.join(scratch, 'dist') }) };
  // Into a folder that does not exist yet, as `cdk8s synth` runs it (it deletes the output folder
  // first): every file is created. The folder is removed after each run, outside the measure.
  let fresh = 0;
  const appFresh = {
    run: () => {
      const out = path.join(scratch, `fresh-${fresh++}`);
      const result = synth({ CDK8S_OUTDIR: out });
      fs.rmSync(out, { recursive: true, force: true });
      return result;
    },
  };
  // A fresh clone's first synth, as CI runs it: `npm ci` leaves only what its prepare script
  // (scripts/precompile-ts.js) puts in node_modules/.cache, the transpiled TypeScript and the
  // modules' compiled code; every other cache is empty (an empty PLATFORM_STACK_CACHE_DIR per run),
  // dist/ up to date with its index, as committed. `precompiled: false` leaves those caches empty too.
  // The prepare script runs, and the folders are removed, outside the measure.
  let cold = 0;
  const coldSynth = ({ precompiled }) => ({
    run: () => {
      const caches = path.join(scratch, `caches-${cold++}`);
      if (precompiled) wallMs([path.join('scripts', 'precompile-ts.js')], { PLATFORM_STACK_CACHE_DIR: caches });
      const result = synth({ CDK8S_OUTDIR: path.join(scratch, 'dist'), PLATFORM_STACK_CACHE_DIR: caches });
      fs.rmSync(caches, { recursive: true, force: true });
      return result;
    },
  });
  // Without reusing the texts of dist/'s index (scripts/synth-index.js): every object serialized, as after a change to all.
  const appNoYamlCache = { run: () => synth({ CDK8S_OUTDIR: path.join(scratch, 'dist'), PLATFORM_STACK_YAML_CACHE: 'off' }) };
  // N environments of default settings (the public PlatformChart, wherever the app keeps its own
  // config), through the same loaders, every object serialized (no YAML cache).
  const envs = (n) => ({
    run: () => measure([...nodeFlags, '-e', `
      require('./scripts/compile-cache');
      require('./scripts/lazy-yaml');
      require('./scripts/run-ts');
      const { PlatformApp, PlatformChart } = require('./lib/index.ts');
      const app = new PlatformApp({ outdir: ${JSON.stringify(path.join(scratch, 'n'))} });
      for (let i = 0; i < ${n}; i++) new PlatformChart(app, 'env' + i, { environment: { name: 'env' + i } });
      app.synth();`]),
  });
  return { floor, app, appFresh, coldSynth, appNoYamlCache, envs };
}

const WARM = 'synth  node scripts/synth.js (cdk8s.yaml app, all environments, dist/ up to date)';
const COLD = "cold   a fresh clone's first synth, as CI runs it (after `npm ci`: its prepare script transpiled the TypeScript and loaded the modules; every other cache empty; dist/ and its index as committed)";

function synthBench() {
  return withScratch((scratch) => {
    const { floor, app, appFresh, coldSynth, appNoYamlCache, envs } = synthRuns(scratch, wallMs);
    const [floorRun, appRun, appColdRun, appColdBareRun, appFreshRun, appNoYamlCacheRun, n3, n10, n30] = againstBaseline(floor, [app, coldSynth({ precompiled: true }), coldSynth({ precompiled: false }), appFresh, appNoYamlCache, envs(3), envs(10), envs(30)]);
    const ratio = (r) => ratioLine(r, `${r.value.toFixed(0)} ms`);
    return [
      `floor  node -e "require('cdk8s'); require('cdk8s-plus-27')"   ${floorRun.value.toFixed(0)} ms`,
      `${WARM}   ${ratio(appRun)}   goal <= 1.5x`,
      `${COLD}   ${ratio(appColdRun)}   goal <= 1.8x`,
      `       the same without what the prepare script fills (\`npm ci --ignore-scripts\`): every cache empty but dist/'s index   ${ratio(appColdBareRun)}`,
      `       warm, into an empty folder (as \`cdk8s synth\`, which deletes it first)   ${ratio(appFreshRun)}`,
      `       warm, every object serialized (PLATFORM_STACK_YAML_CACHE=off: no text of the index reused)   ${ratio(appNoYamlCacheRun)}`,
      `scale  3 envs ${n3.value.toFixed(0)} ms, 10 envs ${n10.value.toFixed(0)} ms, 30 envs ${n30.value.toFixed(0)} ms: ${((n30.value - n3.value) / 27).toFixed(1)} ms per extra environment; 30 envs = ${n30.ratio.toFixed(2)}x the floor`,
      `(${RUNS} rounds after one warm-up each; a ratio is the median of ${RUNS} pairs, each a run and a run of the floor right beside it)`,
    ];
  });
}

// Instruction counts: a few rounds are enough (they barely vary), each run takes seconds.
const INSTRUCTION_RUNS = Number(process.env.BENCH_INSTRUCTION_RUNS || 5);

/**
 * The synth's goals in instructions, the issues' measure: warm and cold against the floor as node
 * runs them, and warm with `--single-threaded` (all of V8's work on the main thread), whose counts
 * repeat within 1%: the one to compare two versions of the code with.
 */
function instructionBench() {
  return withScratch((scratch) => {
    const runs = synthRuns(scratch, instructions);
    const [floorRun, appRun, appColdRun] = againstBaseline(runs.floor, [runs.app, runs.coldSynth({ precompiled: true })], INSTRUCTION_RUNS);
    const single = synthRuns(scratch, instructions, ['--single-threaded']);
    const [singleFloorRun, singleAppRun] = againstBaseline(single.floor, [single.app], INSTRUCTION_RUNS);
    const g = (n) => `${(n / 1e9).toFixed(3)} G`;
    const ratio = (r) => ratioLine(r, g(r.value), 3);
    return [
      `floor  node -e "require('cdk8s'); require('cdk8s-plus-27')"   ${g(floorRun.value)} instructions`,
      `${WARM}   ${ratio(appRun)}   goal <= 1.5x`,
      `${COLD}   ${ratio(appColdRun)}   goal <= 1.8x`,
      `       warm, node --single-threaded (floor ${g(singleFloorRun.value)})   ${ratio(singleAppRun)}`,
      `(instructions of all threads, valgrind --tool=callgrind; ${INSTRUCTION_RUNS} rounds after one warm-up each, a ratio is the median of the pairs)`,
    ];
  });
}

async function main() {
  const only = process.argv.slice(2);
  const sections = [
    { title: 'Synth speed', run: async () => synthBench() },
    { title: 'Synth instructions', run: async () => instructionBench() },
  ];
  const benchDir = path.join(__dirname, 'bench');
  for (const file of fs.existsSync(benchDir) ? fs.readdirSync(benchDir).filter((f) => f.endsWith('.js')).sort() : []) {
    sections.push(require(path.join(benchDir, file)));
  }
  let failed = false;
  for (const section of sections) {
    if (only.length && !only.some((o) => section.title.toLowerCase().startsWith(o.toLowerCase()))) continue;
    console.log(`\n## ${section.title}`);
    try {
      for (const line of await section.run()) console.log(line);
    } catch (error) {
      failed = true;
      console.log(`FAILED: ${error.stack || error}`);
    }
  }
  process.exitCode = failed ? 1 : 0;
}

main();
