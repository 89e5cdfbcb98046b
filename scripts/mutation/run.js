#!/usr/bin/env node
// Mutation check: do the tests notice a small, realistic bug? Each patch in patches/ is one bug
// (`file`, a `find` text that must occur exactly once, its `replace`ment, and the `tests` aimed at
// it). Each is applied to a scratch copy of this working tree (never to the tree itself), then the
// aimed tests run, then, if none of them failed, the unit suite (`npm run test:unit`'s jest). A
// mutation is caught when a test fails; "snapshots only" when every failure is a snapshot diff,
// which a developer regenerates along with the change, so it proves little.
//
//   node scripts/mutation/run.js [--all] [name-fragment ...]
//
// --all runs the unit suite after the aimed tests even when they caught the mutation. The whole
// list takes a while on 2 cores (engine tests start nginx, redis-server and Prometheus).
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.resolve(__dirname, '..', '..');
const patchDir = path.join(__dirname, 'patches');
const args = process.argv.slice(2);
const runAll = args.includes('--all');
const filters = args.filter((a) => !a.startsWith('--'));

const patches = fs.readdirSync(patchDir).filter((f) => f.endsWith('.json')).sort()
  .map((f) => ({ name: f.replace(/\.json$/, ''), ...JSON.parse(fs.readFileSync(path.join(patchDir, f), 'utf8')) }))
  .filter((p) => filters.length === 0 || filters.some((fragment) => p.name.includes(fragment)));

// The unit suite: jest without the suites `npm run test:unit` leaves out (engines, packing, dist).
const unitScript = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).scripts['test:unit'];
const unitIgnore = /--testPathIgnorePatterns '([^']+)'/.exec(unitScript)[1];

/** A copy of the project (sources, tests, dist/) sharing node_modules, as test/dist.test.ts makes one. */
function scratchCopy() {
  const to = fs.mkdtempSync(path.join(os.tmpdir(), 'mutation-'));
  fs.cpSync(root, to, { recursive: true, filter: (src) => !/[/\\](node_modules|\.git|build|coverage|\.bench|\.dist\.[^/\\]*)$/.test(src) });
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(to, 'node_modules'));
  return to;
}

/** Runs jest in `cwd`; returns the failed tests, each with whether it failed on a snapshot only. */
function jest(cwd, jestArgs) {
  const out = path.join(cwd, '.mutation-result.json');
  fs.rmSync(out, { force: true });
  const started = Date.now();
  const result = spawnSync(process.execPath, [path.join(root, 'node_modules', 'jest', 'bin', 'jest.js'), '--ci', '--silent', '--json', `--outputFile=${out}`, ...jestArgs], { cwd, encoding: 'utf8', timeout: 15 * 60_000 });
  const seconds = Math.round((Date.now() - started) / 1000);
  if (!fs.existsSync(out)) return { seconds, failures: [{ test: `jest did not finish (${result.error?.message ?? `exit ${result.status}`})`, snapshot: false }] };
  const report = JSON.parse(fs.readFileSync(out, 'utf8'));
  const failures = [];
  for (const suite of report.testResults) {
    const file = path.relative(cwd, suite.name);
    const failed = suite.assertionResults.filter((a) => a.status === 'failed');
    if (suite.status === 'failed' && failed.length === 0) failures.push({ test: `${file}: the suite did not run: ${suite.message.split('\n').find((l) => l.trim()) ?? ''}`, snapshot: false });
    for (const a of failed) failures.push({ test: `${file} › ${a.fullName}`, snapshot: a.failureMessages.every((m) => /toMatchSnapshot|Snapshot name/.test(m)) });
  }
  return { seconds, failures };
}

const scratch = scratchCopy();
const results = [];
try {
  for (const patch of patches) {
    const file = path.join(scratch, patch.file);
    const original = fs.readFileSync(file, 'utf8');
    const found = original.split(patch.find).length - 1;
    if (found !== 1) {
      results.push({ ...patch, verdict: 'stale', detail: `the find text occurs ${found} times in ${patch.file}: update the patch` });
      continue;
    }
    fs.writeFileSync(file, original.replace(patch.find, () => patch.replace));
    try {
      const aimed = jest(scratch, ['--runTestsByPath', ...patch.tests]);
      let failures = aimed.failures;
      let seconds = aimed.seconds;
      if (runAll || failures.length === 0 || failures.every((f) => f.snapshot)) {
        const unit = jest(scratch, ['--testPathIgnorePatterns', unitIgnore]);
        failures = failures.concat(unit.failures.filter((f) => !failures.some((g) => g.test === f.test)));
        seconds += unit.seconds;
      }
      const verdict = failures.length === 0 ? 'SURVIVED' : failures.every((f) => f.snapshot) ? 'caught (snapshots only)' : 'caught';
      results.push({ ...patch, verdict, seconds, failures });
    } finally {
      fs.writeFileSync(file, original);
    }
    const last = results[results.length - 1];
    console.log(`${last.verdict.padEnd(24)} ${patch.name} (${last.seconds} s): ${patch.description}`);
    for (const f of last.failures.slice(0, 4)) console.log(`    ${f.snapshot ? '[snapshot] ' : ''}${f.test}`);
    if (last.failures.length > 4) console.log(`    ... and ${last.failures.length - 4} more`);
  }
} finally {
  fs.rmSync(scratch, { recursive: true, force: true });
}

for (const r of results.filter((r) => r.verdict === 'stale')) console.log(`stale                    ${r.name}: ${r.detail}`);
const count = (verdict) => results.filter((r) => r.verdict === verdict).length;
console.log(`\n${patches.length} mutations: ${count('caught')} caught by a test aimed at the behaviour, ${count('caught (snapshots only)')} by snapshots only, ${count('SURVIVED')} survived, ${count('stale')} stale`);
process.exit(count('SURVIVED') + count('stale') > 0 ? 1 : 0);
