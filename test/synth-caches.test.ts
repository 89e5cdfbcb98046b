import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { tempDir } from './support/engines';

// The synth's caches (scripts/): what their keys hold, how big they get, and that a program runs
// the same with them as without. Behaviour across synths (same bytes off and warm, an edited
// serializer, a rewritten package) is in dist.test.ts.
const keys = require('../scripts/cache-keys');
const files = require('../scripts/cache-files');

const ROOT = path.join(__dirname, '..');

/** Copies run-ts and what it loads (`others` besides) into `dir`'s scripts/, with .swcrc. */
function copyLoader(dir: string, others: readonly string[] = []): void {
  fs.mkdirSync(path.join(dir, 'scripts'), { recursive: true });
  for (const f of [...others, 'run-ts.js', 'cache-files.js', 'cache-keys.js', 'hashes-by-status.js']) fs.copyFileSync(path.join(ROOT, 'scripts', f), path.join(dir, 'scripts', f));
  fs.copyFileSync(path.join(ROOT, '.swcrc'), path.join(dir, '.swcrc'));
}

describe('cache keys hold every input', () => {
  test('compile cache: the V8 version, node flags, file name and source each change the key', () => {
    const flags = keys.compileFlags('11.3.244.8', ['--max-old-space-size=512']);
    const base = keys.compileEntryKey(flags, '/a/b.js', 'module.exports = 1;');
    expect(keys.compileEntryKey(keys.compileFlags('12.4.254.21', ['--max-old-space-size=512']), '/a/b.js', 'module.exports = 1;')).not.toBe(base);
    expect(keys.compileEntryKey(keys.compileFlags('11.3.244.8', ['--max-old-space-size=1024']), '/a/b.js', 'module.exports = 1;')).not.toBe(base);
    expect(keys.compileEntryKey(keys.compileFlags('11.3.244.8', ['--max-old-space-size=512', '--cpu-prof']), '/a/b.js', 'module.exports = 1;')).not.toBe(base);
    expect(keys.compileEntryKey(flags, '/a/c.js', 'module.exports = 1;')).not.toBe(base);
    expect(keys.compileEntryKey(flags, '/a/b.js', 'module.exports = 2;')).not.toBe(base);
    // Parts cannot slide into one another.
    expect(keys.compileEntryKey(flags, '/a/b.js1', ' module.exports = 1;')).not.toBe(keys.compileEntryKey(flags, '/a/b.js', '1 module.exports = 1;'));
  });

  test('compile cache: the flags and the program each change the pack', () => {
    const base = keys.compilePackKey('11.3 --stack-size=900', 'scripts/synth.js');
    expect(keys.compilePackKey('11.3 --stack-size=901', 'scripts/synth.js')).not.toBe(base);
    expect(keys.compilePackKey('11.3 --stack-size=900', '-e')).not.toBe(base);
  });

  test("dist/'s index: a text's hash holds the serializer and the text, the same for the text and its file's bytes; an expression's entry holds the parser's version and the expression", () => {
    const base = keys.indexTextHash('serializer-a', 'kind: ConfigMap\n');
    expect(keys.indexTextHash('serializer-a', Buffer.from('kind: ConfigMap\n'))).toBe(base);
    expect(keys.indexTextHash('serializer-b', 'kind: ConfigMap\n')).not.toBe(base);
    expect(keys.indexTextHash('serializer-a', 'kind: Secret\n')).not.toBe(base);
    const entry = keys.indexParsedEntry('0.315.0', 'key-a');
    expect(keys.indexParsedEntry('0.316.0', 'key-a')).not.toBe(entry);
    expect(keys.indexParsedEntry('0.315.0', 'key-b')).not.toBe(entry);
  });

  test('compile cache: the code of `node -e` and what node preloads are not flags (the packs of `node -e` programs do not depend on their code)', () => {
    expect(keys.compileFlags('11.3', ['-e', 'a()', '--stack-size=900', '-r', './x.js', '--require=./y.js', '--import', './z.mjs'])).toBe('11.3 --stack-size=900');
  });

  test("run-ts: the @swc/core version and each swc option change the transpiler, the file name and source's hash the entry", () => {
    const options = { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' }, sourceMaps: false };
    const base = keys.transpilerKey('1.16.22', options);
    expect(keys.transpilerKey('1.16.23', options)).not.toBe(base);
    expect(keys.transpilerKey('1.16.22', { ...options, sourceMaps: 'inline' })).not.toBe(base);
    expect(keys.transpilerKey('1.16.22', { ...options, jsc: { ...options.jsc, target: 'es2020' } })).not.toBe(base);
    expect(keys.transpilerKey('1.16.22', { ...options, module: { type: 'es6' } })).not.toBe(base);
    const source = keys.sourceHash('export const a = 1;');
    expect(keys.sourceHash('export const a = 2;')).not.toBe(source);
    const entry = keys.transpileEntryKey(base, '/lib/a.ts', source);
    expect(keys.transpileEntryKey(keys.transpilerKey('1.16.23', options), '/lib/a.ts', source)).not.toBe(entry);
    expect(keys.transpileEntryKey(base, '/lib/b.ts', source)).not.toBe(entry);
    expect(keys.transpileEntryKey(base, '/lib/a.ts', keys.sourceHash('export const a = 2;'))).not.toBe(entry);
  });

  test("hashes by status: an output folder's store is its own", () => {
    expect(keys.fileHashesName('/work/a/dist')).not.toBe(keys.fileHashesName('/work/b/dist'));
  });

  test("dist/'s index: lib/core/yaml.ts's source and js-yaml's package.json each change the serializer (not V8's version: values are keyed by their JSON form)", () => {
    const base = keys.yamlSerializerKey(Buffer.from('dump()'), Buffer.from('{"version":"4.3.2"}'));
    expect(keys.yamlSerializerKey(Buffer.from('dump(x)'), Buffer.from('{"version":"4.3.2"}'))).not.toBe(base);
    expect(keys.yamlSerializerKey(Buffer.from('dump()'), Buffer.from('{"version":"4.3.3"}'))).not.toBe(base);
  });

  test("dist/'s index: the js-yaml it keys by is the one lib/core/yaml.ts loads (a test that fails when npm moves it)", () => {
    const { JS_YAML_PACKAGE } = require('../scripts/synth-index');
    expect(require.resolve('js-yaml/package.json', { paths: [path.join(ROOT, 'lib', 'core')] })).toBe(JS_YAML_PACKAGE);
  });

  test("run-ts: the @swc/core it keys by is the one it loads, and .swcrc is the one set of swc options (jest's too)", () => {
    const runTs = fs.readFileSync(path.join(ROOT, 'scripts', 'run-ts.js'), 'utf8');
    expect(runTs).toContain("path.join(ROOT, 'node_modules', '@swc', 'core', 'package.json')");
    expect(require.resolve('@swc/core/package.json', { paths: [path.join(ROOT, 'scripts')] })).toBe(path.join(ROOT, 'node_modules', '@swc', 'core', 'package.json'));
    // No second copy of the options: run-ts reads .swcrc, jest's @swc/jest reads it (no options in jest.config.js).
    expect(runTs).not.toMatch(/syntax: 'typescript'/);
    expect(fs.readFileSync(path.join(ROOT, 'jest.config.js'), 'utf8')).toMatch(/\['@swc\/jest'\]/);
  });
});

describe('the caches stay small', () => {
  let scratch: string;
  beforeEach(() => (scratch = tempDir('cache-files')));
  afterEach(() => fs.rmSync(scratch, { recursive: true, force: true }));

  test('pruneSiblings keeps a file and the newest others of its kind, files or folders', () => {
    for (const [i, name] of ['a.js', 'b.js', 'c.js', 'd.js', 'keep.txt'].entries()) {
      fs.writeFileSync(path.join(scratch, name), name);
      fs.utimesSync(path.join(scratch, name), 1000 + i, 1000 + i);
    }
    files.pruneSiblings(path.join(scratch, 'a.js'), 2);
    expect(fs.readdirSync(scratch).sort()).toEqual(['a.js', 'c.js', 'd.js', 'keep.txt']);
    fs.mkdirSync(path.join(scratch, 'folders', 'x', 'y'), { recursive: true });
    fs.mkdirSync(path.join(scratch, 'folders', 'z'));
    files.pruneSiblings(path.join(scratch, 'folders', 'z'), 0);
    expect(fs.readdirSync(path.join(scratch, 'folders'))).toEqual(['z']);
  });

  test("thisRunFirst keeps this run's entries and earlier ones up to a budget, most recent first", () => {
    const current = new Map([['now', 'xxxx']]);
    const earlier = new Map([['now', 'old'], ['recent', 'xx'], ['older', 'xx'], ['oldest', 'x']]);
    expect([...files.thisRunFirst(current, earlier, 3, (v: string) => v.length).keys()]).toEqual(['now', 'recent']);
  });

  test('run-ts keeps a folder per transpiler (at most 3), each bounded, and an edit to .swcrc transpiles anew', () => {
    // GIVEN a copy of the project's loader and .swcrc with an empty cache folder
    const project = path.join(scratch, 'project');
    copyLoader(project);
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(project, 'node_modules'));
    fs.writeFileSync(path.join(project, 'a.ts'), 'export const f = async (x?: { y: number }) => x?.y ?? 1;\n');
    const cache = path.join(scratch, 'cache');
    const load = () => spawnSync(process.execPath, ['-r', './scripts/run-ts.js', '-e', "require('./a.ts').f().then(console.log)"], { cwd: project, encoding: 'utf8', env: { ...process.env, PLATFORM_STACK_CACHE_DIR: cache } });
    expect(load().stdout).toBe('1\n');
    const transpilers = () => fs.readdirSync(path.join(cache, 'run-ts')).sort();
    expect(transpilers()).toHaveLength(1);
    const code = (t: string) => fs.readFileSync(path.join(cache, 'run-ts', t, fs.readdirSync(path.join(cache, 'run-ts', t))[0]), 'utf8');
    expect(code(transpilers()[0])).toContain('?.');
    // WHEN .swcrc changes (an older target) THEN the next load transpiles anew, under a new transpiler
    const swcrc = JSON.parse(fs.readFileSync(path.join(project, '.swcrc'), 'utf8'));
    fs.writeFileSync(path.join(project, '.swcrc'), JSON.stringify({ ...swcrc, jsc: { ...swcrc.jsc, target: 'es2015' } }));
    expect(load().stdout).toBe('1\n');
    expect(transpilers()).toHaveLength(2);
    expect(transpilers().map(code).filter((c) => !c.includes('?.'))).toHaveLength(1);
    // AND after more transpilers, the 2 newest others are kept besides the current one
    for (const target of ['es2016', 'es2017', 'es2018']) {
      fs.writeFileSync(path.join(project, '.swcrc'), JSON.stringify({ ...swcrc, jsc: { ...swcrc.jsc, target } }));
      expect(load().stdout).toBe('1\n');
    }
    expect(transpilers()).toHaveLength(3);
  });
});

describe("run-ts knows an unchanged source by its status", () => {
  let scratch: string;
  beforeEach(() => (scratch = tempDir('run-ts-status')));
  afterEach(() => fs.rmSync(scratch, { recursive: true, force: true }));

  test('a source rewritten to the same length, its modification time set back, is transpiled anew', () => {
    // GIVEN a settled source (written over 2 s ago), loaded once: its hash is recorded by its status
    copyLoader(scratch);
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(scratch, 'node_modules'));
    const source = path.join(scratch, 'a.ts');
    const wholeSecond = 1_700_000_000;
    fs.writeFileSync(source, 'export const a: number = 1;\n');
    fs.utimesSync(source, wholeSecond, wholeSecond);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2100);
    const cache = path.join(scratch, 'cache');
    const load = () => spawnSync(process.execPath, ['-r', './scripts/run-ts.js', '-e', "console.log(require('./a.ts').a)"], { cwd: scratch, encoding: 'utf8', env: { ...process.env, PLATFORM_STACK_CACHE_DIR: cache } }).stdout;
    expect(load()).toBe('1\n');
    const store = JSON.parse(fs.readFileSync(path.join(cache, 'source-hashes', 'run-ts.hashes'), 'utf8')).hashes;
    expect(Object.keys(store)).toEqual([source]);
    // WHEN it is rewritten to the same length and its times set back THEN the next load runs the new code
    fs.writeFileSync(source, 'export const a: number = 2;\n');
    fs.utimesSync(source, wholeSecond, wholeSecond);
    expect(load()).toBe('2\n');
  });
});

describe("a file's status stands in for its bytes only when no write can hide behind it (cache-files.js, hashes-by-status.js)", () => {
  let scratch: string;
  beforeEach(() => (scratch = tempDir('file-status')));
  afterEach(() => fs.rmSync(scratch, { recursive: true, force: true }));
  const { hashesByStatus } = require('../scripts/hashes-by-status');
  const stat = (file: string) => fs.statSync(file, { bigint: true });
  // Later than any tick of the file's times: the status as a run 10 s from now takes it.
  const later = () => Date.now() + 10_000;
  // Longer than a tick of the kernel's file times (a jiffy, at most 10 ms), so two writes get two times.
  const waitPastTick = () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);

  test('a file changed in the last 2 s has no settled status: a second write in the same tick would keep its times', () => {
    const file = path.join(scratch, 'a.yaml');
    fs.writeFileSync(file, 'a: 1\n');
    expect(files.settledStatus(stat(file))).toBeUndefined();
    expect(files.settledStatus(stat(file), later())).toEqual(expect.any(String));
  });

  test('a write of the same size with the modification time set back still changes the status (its ctime), as does a file put in its place', () => {
    // GIVEN a file's status, its times set to a whole second
    const file = path.join(scratch, 'a.yaml');
    const [atime, mtime] = [1_700_000_000, 1_700_000_000];
    fs.writeFileSync(file, 'a: 1\n');
    fs.utimesSync(file, atime, mtime);
    const before = files.settledStatus(stat(file), later());
    // WHEN it is rewritten to bytes of the same length, its times set back as `touch -r` or `cp -p` do THEN its status is another
    waitPastTick();
    fs.writeFileSync(file, 'a: 2\n');
    fs.utimesSync(file, atime, mtime);
    expect(stat(file).mtimeNs).toBe(BigInt(mtime) * 1_000_000_000n);
    const rewritten = files.settledStatus(stat(file), later());
    expect(rewritten).not.toBe(before);
    // AND WHEN another file of the same length and times is renamed into its place THEN another again
    waitPastTick();
    const other = path.join(scratch, 'b.yaml');
    fs.writeFileSync(other, 'a: 3\n');
    fs.utimesSync(other, atime, mtime);
    fs.renameSync(other, file);
    expect([before, rewritten]).not.toContain(files.settledStatus(stat(file), later()));
  });

  test("a store answers from its record only for the status it was recorded with, records only settled files, and is another key's no more", () => {
    const store = path.join(scratch, 'store', 'a.hashes');
    let computed = 0;
    const compute = (hash: string) => () => (computed++, hash);
    // GIVEN a store that recorded one settled file and was asked for a racy one
    const first = hashesByStatus(store, 'sha1');
    expect(first.hash('a.yaml', 'status-1', compute('hash-a'))).toBe('hash-a');
    expect(first.hash('b.yaml', undefined, compute('hash-b'))).toBe('hash-b');
    first.save();
    // THEN the next run computes none for the same status, and again for another status or the racy file
    const second = hashesByStatus(store, 'sha1');
    computed = 0;
    expect(second.hash('a.yaml', 'status-1', compute('not asked'))).toBe('hash-a');
    expect(computed).toBe(0);
    expect(second.hash('b.yaml', undefined, compute('hash-b'))).toBe('hash-b');
    expect(computed).toBe(1);
    expect(hashesByStatus(store, 'sha1').hash('a.yaml', 'status-2', compute('hash-a2'))).toBe('hash-a2');
    // AND a store of hashes made another way answers nothing from it
    expect(hashesByStatus(store, 'sha256').hash('a.yaml', 'status-1', compute('sha256-a'))).toBe('sha256-a');
    // AND a run that asked what the record holds leaves the file as it was; one that asked less writes only what it asked
    const written = fs.statSync(store).mtimeMs;
    const third = hashesByStatus(store, 'sha1');
    third.hash('a.yaml', 'status-1', compute('not asked'));
    third.save();
    expect(fs.statSync(store).mtimeMs).toBe(written);
    const fourth = hashesByStatus(store, 'sha1');
    fourth.hash('c.yaml', 'status-3', compute('hash-c'));
    fourth.save();
    expect(JSON.parse(fs.readFileSync(store, 'utf8'))).toEqual({ key: 'sha1', hashes: { 'c.yaml': ['status-3', 'hash-c'] } });
  });
});

describe("npm's prepare script fills run-ts's cache and the compile cache ahead of the first synth", () => {
  let scratch: string;
  beforeEach(() => (scratch = tempDir('precompile-ts')));
  afterEach(() => fs.rmSync(scratch, { recursive: true, force: true }));

  /** A copy of the project's loader with main.ts, app/ and lib/ of its own. */
  function project(withSwc: boolean): string {
    const dir = path.join(scratch, 'project');
    copyLoader(dir, ['precompile-ts.js', 'compile-cache.js', 'lazy-yaml.js']);
    if (withSwc) fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
    fs.mkdirSync(path.join(dir, 'lib', 'core'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'app'));
    fs.writeFileSync(path.join(dir, 'lib', 'core', 'a.ts'), 'export const a = (x?: { y: number }): number => x?.y ?? 1;\n');
    fs.writeFileSync(path.join(dir, 'lib', 'types.d.ts'), 'export type T = number;\n');
    fs.writeFileSync(path.join(dir, 'app', 'b.ts'), "import { a } from '../lib/core/a';\nexport const b: number = a() + 1;\n");
    fs.writeFileSync(path.join(dir, 'main.ts'), "export { b } from './app/b';\n");
    return dir;
  }

  const env = () => ({ ...process.env, PLATFORM_STACK_CACHE_DIR: path.join(scratch, 'cache') });
  // package.json's prepare script, run as npm runs it (sh -c, in the package's folder).
  const prepare = (dir: string) => spawnSync('sh', ['-c', JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts.prepare], { cwd: dir, encoding: 'utf8', env: env() });
  // What the synth does (a scripts/synth.js of the project's own): main.ts through the compile cache and run-ts; prints main.ts's `b`, then whether swc was loaded.
  const synthLike = (dir: string) => {
    fs.writeFileSync(path.join(dir, 'scripts', 'synth.js'), "require('./compile-cache'); require('./run-ts'); console.log(require('../main.ts').b); console.log(Object.keys(require.cache).some((f) => f.includes('@swc')));\n");
    return spawnSync(process.execPath, [path.join('scripts', 'synth.js')], { cwd: dir, encoding: 'utf8', env: env() });
  };
  /** The compile cache's entries (compile-cache.js's pack), by whether each was taken before a run. */
  const packEntries = () => {
    const packs = fs.readdirSync(path.join(scratch, 'cache', 'compile-cache')).filter((f) => f.endsWith('.pack'));
    expect(packs).toHaveLength(1);
    const pack = fs.readFileSync(path.join(scratch, 'cache', 'compile-cache', packs[0]));
    const index: Record<string, unknown[]> = JSON.parse(pack.toString('utf8', 4, 4 + pack.readUInt32LE(0)));
    const entries = Object.values(index);
    return { total: entries.length, beforeRun: entries.filter((entry) => entry[3] === true).length };
  };

  test('after it, loading main.ts, app/ and lib/ loads no compiler; a source edited afterwards is transpiled anew', () => {
    // GIVEN a project whose prepare script ran (as `npm ci` runs it)
    const dir = project(true);
    const prepared = prepare(dir);
    expect(prepared.status).toBe(0);
    expect(prepared.stderr).toBe("precompile-ts: 3 TypeScript files in run-ts's cache\nprecompile-ts: the synth's modules in the compile cache\n");
    // Nothing on stdout: `npm pack --json` runs prepare too, and its JSON is on stdout.
    expect(prepared.stdout).toBe('');
    // AND the code of the modules it loaded, main.ts's among them, is in the compile cache, as taken before a run
    const loadedAtInstall = packEntries();
    expect(loadedAtInstall.total).toBeGreaterThanOrEqual(3);
    expect(loadedAtInstall.beforeRun).toBe(loadedAtInstall.total);
    // WHEN the program loads them THEN it runs them without swc
    expect(synthLike(dir).stdout).toBe('2\nfalse\n');
    // AND the first run takes the code of those it loaded again, with what it compiled as it ran
    // (main.ts, app/b.ts, lib/core/a.ts at least; the compiler's modules, which it did not load, stay as they were)
    const afterRun = packEntries();
    expect(afterRun.total).toBeGreaterThanOrEqual(loadedAtInstall.total);
    expect(afterRun.total - afterRun.beforeRun).toBeGreaterThanOrEqual(3);
    // WHEN a source changes after the install THEN it misses, and swc transpiles the new source
    fs.writeFileSync(path.join(dir, 'app', 'b.ts'), "import { a } from '../lib/core/a';\nexport const b: number = a({ y: 41 }) + 1;\n");
    expect(synthLike(dir).stdout).toBe('42\ntrue\n');
  });

  test('without swc installed (npm ci --omit=dev) it skips and does not fail the install', () => {
    const result = prepare(project(false));
    expect(result.status).toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^precompile-ts: skipped \(.*\); the first synth transpiles instead\n$/);
  });

  test('in the unpacked package, which ships no scripts/, it does nothing and does not fail', () => {
    const result = prepare(scratch);
    expect(result.status).toBe(0);
    expect(result.stdout + result.stderr).toBe('');
  });
});

describe('the compile cache runs code as node does', () => {
  let scratch: string;
  beforeEach(() => (scratch = tempDir('compile-cache')));
  afterEach(() => fs.rmSync(scratch, { recursive: true, force: true }));

  test('dynamic import() works in a CommonJS module, on the run that fills the cache and on the runs it serves', () => {
    // GIVEN an installed CommonJS package that imports an ES module three ways
    const dir = path.join(scratch, 'node_modules', 'dynamic-import');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'esm.mjs'), 'export const answer = 42;\n');
    fs.writeFileSync(path.join(dir, 'index.js'), [
      "const viaFunction = new Function('s', 'return import(s)');",
      'module.exports = async () => [',
      "  (await import('./esm.mjs')).answer,",
      "  (await import /* spaced */ ('node:path')).sep,",
      "  (await viaFunction('node:os')).EOL.length,",
      '];',
      '',
    ].join('\n'));
    // A module that never imports, in the same program, is served from the cache.
    fs.writeFileSync(path.join(dir, 'plain.js'), 'module.exports = () => "plain";\n');
    const cache = path.join(scratch, 'cache');
    const program = `require(${JSON.stringify(path.join(ROOT, 'scripts', 'compile-cache.js'))}); require('dynamic-import')().then((r) => console.log(JSON.stringify([...r, require('dynamic-import/plain.js')()])));`;
    const run = () => spawnSync(process.execPath, ['-e', program], { cwd: scratch, encoding: 'utf8', env: { ...process.env, PLATFORM_STACK_CACHE_DIR: cache } });
    // WHEN it runs with the cache cold, then warm THEN import() works each time, with nothing on stderr
    for (let i = 0; i < 3; i++) {
      const result = run();
      expect(result.stderr).toBe('');
      expect(JSON.parse(result.stdout)).toEqual([42, path.sep, 1, 'plain']);
    }
    expect(fs.readdirSync(path.join(cache, 'compile-cache')).filter((f) => f.endsWith('.pack'))).toHaveLength(1);
  });

  test("a pack that serves a run is kept when programs of other flags fill packs of their own (pruning by last use, not by when it was written)", () => {
    // GIVEN a program whose pack was written, then runs of other flags (each writes a pack), as many as are kept besides one
    fs.writeFileSync(path.join(scratch, 'plain.js'), 'module.exports = () => "plain";\n');
    const cache = path.join(scratch, 'cache');
    const program = `require(${JSON.stringify(path.join(ROOT, 'scripts', 'compile-cache.js'))}); console.log(require('./plain.js')())`;
    const run = (...flags: string[]) => spawnSync(process.execPath, [...flags, '-e', program], { cwd: scratch, encoding: 'utf8', env: { ...process.env, PLATFORM_STACK_CACHE_DIR: cache } }).stdout;
    const packs = () => fs.readdirSync(path.join(cache, 'compile-cache')).filter((f) => f.endsWith('.pack')).sort();
    const KEPT_BESIDES = 4;
    expect(run()).toBe('plain\n');
    const [plainPack] = packs();
    for (let i = 0; i < KEPT_BESIDES; i++) expect(run(`--stack-size=${900 + i}`)).toBe('plain\n');
    // WHEN the plain program runs warm (it writes nothing), then one more flag writes its pack (pruning: KEPT_BESIDES besides it)
    const before = fs.readFileSync(path.join(cache, 'compile-cache', plainPack));
    expect(run()).toBe('plain\n');
    expect(fs.readFileSync(path.join(cache, 'compile-cache', plainPack))).toEqual(before);
    expect(run(`--stack-size=${900 + KEPT_BESIDES}`)).toBe('plain\n');
    // THEN the plain program's pack is still there
    expect(packs()).toHaveLength(KEPT_BESIDES + 1);
    expect(packs()).toContain(plainPack);
  });

  test("another program, and a run that fails, leave a program's pack as it was: the synth is never served code a partial run compiled", () => {
    // GIVEN a program (a file, as scripts/synth.js is one) whose pack was written
    fs.writeFileSync(path.join(scratch, 'plain.js'), 'module.exports = () => "plain";\n');
    const preload = ['-r', path.join(ROOT, 'scripts', 'compile-cache.js')];
    fs.writeFileSync(path.join(scratch, 'program.js'), "console.log(require('./plain.js')()); if (process.env.FAIL) process.exitCode = 1;\n");
    fs.writeFileSync(path.join(scratch, 'other.js'), "require('./plain.js');\n");
    const cache = path.join(scratch, 'cache');
    const run = (file: string, env: Record<string, string> = {}) => spawnSync(process.execPath, [...preload, file], { cwd: scratch, encoding: 'utf8', env: { ...process.env, ...env, PLATFORM_STACK_CACHE_DIR: cache } });
    const packs = () => new Map(fs.readdirSync(path.join(cache, 'compile-cache')).filter((f) => f.endsWith('.pack')).map((f) => [f, fs.readFileSync(path.join(cache, 'compile-cache', f))]));
    expect(run('program.js').stdout).toBe('plain\n');
    const [[programPack, written]] = [...packs()];
    // WHEN another program loads the same module THEN it gets a pack of its own
    run('other.js');
    expect(packs().size).toBe(2);
    expect(packs().get(programPack)).toEqual(written);
    // WHEN the module changes and the program fails THEN its pack is not written
    fs.writeFileSync(path.join(scratch, 'plain.js'), 'module.exports = () => "changed";\n');
    const failed = run('program.js', { FAIL: '1' });
    expect([failed.status, failed.stdout]).toEqual([1, 'changed\n']);
    expect(packs().get(programPack)).toEqual(written);
    // AND the next run that succeeds writes it
    expect(run('program.js').stdout).toBe('changed\n');
    expect(packs().get(programPack)).not.toEqual(written);
  });
});
