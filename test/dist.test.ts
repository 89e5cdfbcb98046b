import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as v8 from 'v8';
import { Chart, Names, ResolutionContext } from 'cdk8s';
import { buildApp } from '../main';
import { tempDir } from './support/engines';
import { treeDigest } from './support/tree';
import { promqlParseCacheKey, promqlParserVersion, substituteGrafanaVariables } from '../lib/grafana/promql';

/** A folder per chart of the app (an environment each), wherever the app keeps its config. */
const ENVIRONMENT_FOLDERS = buildApp().node.children.filter(Chart.isChart).map((chart) => Names.toDnsLabel(chart)).sort();

const ROOT = path.join(__dirname, '..');
// The synth's index of its output folder (scripts/synth-index.js), beside the folder of each environment.
const { INDEX_FILE: INDEX } = require('../scripts/synth-index');

function synth(cwd: string, outdir: string, env: Record<string, string> = {}, args: readonly string[] = []) {
  return spawnSync(process.execPath, [path.join(cwd, 'scripts', 'synth.js'), ...args], { cwd, env: { ...process.env, ...env, CDK8S_OUTDIR: outdir }, encoding: 'utf8' });
}

/** The source file of a project copy that holds dev's environment config (main.ts, app/ or lib/), and its text. */
function devConfigSource(project: string): { file: string; source: string } {
  const candidates = ['main.ts', 'app', 'lib'].map((p) => path.join(project, p)).filter((p) => fs.existsSync(p));
  for (const candidate of candidates) {
    const files = fs.statSync(candidate).isDirectory() ? fs.readdirSync(candidate, { recursive: true }).map((f) => path.join(candidate, String(f))).filter((f) => f.endsWith('.ts')) : [candidate];
    for (const file of files) {
      const source = fs.readFileSync(file, 'utf8');
      if (/^[ \t]*name: 'dev',$/m.test(source)) return { file, source };
    }
  }
  throw new Error(`no environment config with name: 'dev' in ${candidates.join(', ')}`);
}

/** Edits dev's entry of the environment config in a project copy: `edit` gets the text from dev's name to the next environment. */
function editDevConfig(project: string, edit: (entry: string) => string): void {
  const { file, source } = devConfigSource(project);
  const start = source.search(/^[ \t]*name: 'dev',$/m);
  const from = source.indexOf('\n', start) + 1;
  const next = source.slice(from).search(/^[ \t]*name: '/m);
  const end = next < 0 ? source.length : from + next;
  const entry = source.slice(start, end);
  const edited = edit(entry);
  expect(edited).not.toBe(entry);
  fs.writeFileSync(file, source.slice(0, start) + edited + source.slice(end));
}

/** The manifests of an output folder (not the synth's index), relative path -> sha256 of its bytes. */
function manifestsDigest(dir: string): Record<string, string> {
  return Object.fromEntries(Object.entries(treeDigest(dir)).filter(([file]) => file.endsWith('.yaml')));
}

/** A copy of the project (sources and dist/) sharing node_modules, caches included. */
function copyProject(to: string): string {
  fs.cpSync(ROOT, to, { recursive: true, filter: (src) => !/[/\\](node_modules|\.git|build|coverage|\.bench)$/.test(src) });
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(to, 'node_modules'));
  return to;
}

describe('dist/: the committed manifests', () => {
  let scratch: string;
  beforeEach(() => (scratch = tempDir('dist-test')));
  afterEach(() => fs.rmSync(scratch, { recursive: true, force: true }));

  test('equals a fresh synth of the sources, byte for byte (run `npm run synth` and commit dist/ when this fails)', () => {
    // GIVEN the app command of cdk8s.yaml WHEN it synthesizes into a scratch folder
    expect(fs.readFileSync(path.join(ROOT, 'cdk8s.yaml'), 'utf8')).toMatch(/^app: node scripts\/synth\.js$/m);
    const result = synth(ROOT, path.join(scratch, 'dist'));
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    // THEN the output is the committed dist/, in a folder per environment beside the index
    const fresh = treeDigest(path.join(scratch, 'dist'));
    expect(Object.keys(fresh).map((f) => f.split(path.sep)[0]).filter((v, i, a) => a.indexOf(v) === i).sort()).toEqual([INDEX, ...ENVIRONMENT_FOLDERS].sort());
    expect(treeDigest(path.join(ROOT, 'dist'))).toEqual(fresh);
  });

  test('the synth caches change nothing: with the compile and YAML caches off, the same bytes', () => {
    // GIVEN a synth with the caches warm WHEN one runs with both turned off THEN the output is the same
    expect(synth(ROOT, path.join(scratch, 'warm')).status).toBe(0);
    expect(synth(ROOT, path.join(scratch, 'warm')).status).toBe(0);
    const cold = synth(ROOT, path.join(scratch, 'cold'), { PLATFORM_STACK_COMPILE_CACHE: 'off', PLATFORM_STACK_YAML_CACHE: 'off' });
    expect(cold.stderr).toBe('');
    expect(treeDigest(path.join(scratch, 'cold'))).toEqual(treeDigest(path.join(scratch, 'warm')));
  });

  test('the YAML cache follows the serializer: a change to lib/core/yaml.ts shows in the next synth', () => {
    // GIVEN a copy of the project whose YAML is in the cache (a synth just ran)
    const project = copyProject(path.join(scratch, 'project'));
    expect(synth(project, path.join(project, 'dist')).status).toBe(0);
    const file = path.join(project, 'dist', 'dev', 'ConfigMap.dev-grafana-datasources.k8s.yaml');
    expect(fs.readFileSync(file, 'utf8')).toMatch(/^apiVersion: v1$/m);
    // WHEN the serializer changes (double-quoted scalars become single-quoted)
    const serializer = path.join(project, 'lib', 'core', 'yaml.ts');
    const source = fs.readFileSync(serializer, 'utf8');
    expect(source).toContain(`quotingType: '"',`);
    fs.writeFileSync(serializer, source.replace(`quotingType: '"',`, `quotingType: "'", forceQuotes: true,`));
    // THEN the next synth writes what the changed serializer writes
    const result = synth(project, path.join(project, 'dist'));
    expect(result.stderr).toBe('');
    expect(fs.readFileSync(file, 'utf8')).toMatch(/^apiVersion: 'v1'$/m);
  });

  test("hands cdk8s no holey array: V8 compiles cdk8s's resolve() again at the first one (4% of a synth's instructions)", () => {
    // GIVEN V8's own test of an array's elements (a holey array is one made by flatMap, say)
    v8.setFlagsFromString('--allow-natives-syntax');
    const isHoley = new Function('array', 'return %HasHoleyElements(array)') as (array: unknown[]) => boolean;
    v8.setFlagsFromString('--no-allow-natives-syntax');
    expect(isHoley(['a'].flatMap((x) => [x]))).toBe(true);
    // WHEN the app renders, a resolver of its own seeing every value cdk8s resolves (each Lazy's too)
    const holey: string[] = [];
    const observer = {
      resolve: (context: ResolutionContext) => {
        if (Array.isArray(context.value) && isHoley(context.value)) holey.push(`${context.obj.node.path}: ${context.key.join('.')}`);
      },
    };
    buildApp({ outdir: tempDir('holey'), resolvers: [observer] }).render();
    // THEN
    expect(holey).toEqual([]);
  });

  test('is deterministic: two synths give the same bytes', () => {
    expect(synth(ROOT, path.join(scratch, 'a')).status).toBe(0);
    expect(synth(ROOT, path.join(scratch, 'b')).status).toBe(0);
    expect(treeDigest(path.join(scratch, 'a'))).toEqual(treeDigest(path.join(scratch, 'b')));
  });

  test('a synth over an edited output folder restores it: edited files rewritten, stale files removed', () => {
    // GIVEN a synthesized output folder, then a file edited by hand and a stale file and folder added
    const out = path.join(scratch, 'dist');
    expect(synth(ROOT, out).status).toBe(0);
    const fresh = treeDigest(out);
    const edited = path.join(out, 'dev', 'Namespace.platform-dev.k8s.yaml');
    fs.writeFileSync(edited, fs.readFileSync(edited, 'utf8').replace('restricted', 'privileged'));
    fs.writeFileSync(path.join(out, 'dev', 'ConfigMap.dev-gone.k8s.yaml'), 'kind: ConfigMap\n');
    fs.mkdirSync(path.join(out, 'old-env'));
    expect(treeDigest(out)).not.toEqual(fresh);
    // WHEN the app command runs again THEN the folder is exactly the synthesized output again
    const result = synth(ROOT, out);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(treeDigest(out)).toEqual(fresh);
    expect(fs.readdirSync(out).sort()).toEqual([INDEX, ...ENVIRONMENT_FOLDERS].sort());
    expect(fs.readdirSync(scratch)).toEqual(['dist']);

    // AND a synth of the same sources over an up-to-date folder leaves every file untouched
    const mtimes = () => Object.fromEntries(Object.keys(fresh).map((f) => [f, fs.statSync(path.join(out, f)).mtimeMs]));
    const before = mtimes();
    expect(synth(ROOT, out).status).toBe(0);
    expect(mtimes()).toEqual(before);
    expect(treeDigest(out)).toEqual(fresh);
  });

  test('is left byte for byte as it was when a synth fails on bad input', () => {
    // GIVEN a copy of the project whose environment config is invalid, and its last good dist/
    const project = copyProject(path.join(scratch, 'project'));
    editDevConfig(project, (entry) => entry.replace("name: 'dev',", "name: 'Dev_1',"));
    const before = treeDigest(path.join(project, 'dist'));
    expect(Object.keys(before).length).toBeGreaterThan(0);

    // WHEN the app command runs
    const result = synth(project, path.join(project, 'dist'));

    // THEN it fails with the clear error, and dist/ is untouched with no staging folder left behind
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("synth failed, dist left unchanged:\nPlatformChart 'Dev_1': environment.name must be a DNS label");
    expect(treeDigest(path.join(project, 'dist'))).toEqual(before);
    expect(fs.readdirSync(project).filter((f) => f.startsWith('.dist'))).toEqual([]);
  });

  test("the synth loads cdk8s's `yaml` library only on first use, and cdk8s's Yaml works as before (fails when cdk8s moves its private lib/yaml.js)", () => {
    // GIVEN the synth's loader hook (scripts/lazy-yaml.js), which knows the file of cdk8s that requires `yaml`
    expect(fs.readFileSync(path.join(path.dirname(require.resolve('cdk8s')), 'yaml.js'), 'utf8')).toMatch(/require\("yaml"\)/);
    // WHEN cdk8s loads THEN `yaml` is not loaded (were the file moved, the hook would do nothing and it would be)
    const probe = `
      require('./scripts/lazy-yaml');
      const { Yaml } = require('cdk8s');
      const loaded = () => Object.keys(require.cache).some((f) => /[\\/]yaml[\\/]dist[\\/]index\\.js$/.test(f));
      const before = loaded();
      const text = Yaml.stringify({ a: ['on', 1] });
      console.log(JSON.stringify({ before, after: loaded(), text, back: Yaml.load ? 'ok' : 'missing' }));`;
    const result = spawnSync(process.execPath, ['-e', probe], { cwd: ROOT, encoding: 'utf8' });
    expect(result.stderr).toBe('');
    // AND the first use loads it and answers as the real library
    expect(JSON.parse(result.stdout)).toEqual({ before: false, after: true, text: 'a:\n  - "on"\n  - 1\n', back: 'ok' });
  });

  test('the compile cache follows an installed package that changes, even to content of the same length', () => {
    // GIVEN a package in a node_modules folder, loaded once through the compile cache (now cached)
    const dir = path.join(scratch, 'node_modules', 'probe-package');
    fs.mkdirSync(dir, { recursive: true });
    const index = path.join(dir, 'index.js');
    const load = () => spawnSync(process.execPath, ['-e', `require(${JSON.stringify(path.join(ROOT, 'scripts', 'compile-cache.js'))}); console.log(require(${JSON.stringify(index)})());`], { encoding: 'utf8' });
    fs.writeFileSync(index, "module.exports = () => 'first';\n");
    expect(load().stdout).toBe('first\n');
    expect(load().stdout).toBe('first\n');
    // WHEN it is rewritten with other code of the same length THEN the next load runs the new code
    fs.writeFileSync(index, "module.exports = () => 'other';\n");
    expect(load().stdout).toBe('other\n');
  });

  test('RUN_TS_SOURCE_MAPS=1 points a stack trace at the lines of the .ts sources', () => {
    // GIVEN a construct that throws WHEN it runs through the synth's TypeScript loader with maps on
    // (through the compile cache too, as the synth loads it)
    const probe = `
      require('./scripts/compile-cache');
      require('./scripts/run-ts');
      const { App } = require('cdk8s');
      const { PlatformChart } = require('./lib/index.ts');
      try { new PlatformChart(new App(), 'x', { environment: { name: 'x', redis: { preset: 'nope' } } }); } catch (e) { console.log(e.stack); }`;
    const result = spawnSync(process.execPath, ['-e', probe], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, RUN_TS_SOURCE_MAPS: '1' } });
    // THEN the frame in lib/redis/validate.ts names the line that throws the validation error
    const frame = /lib[\\/]redis[\\/]validate\.ts:(\d+):\d+/.exec(result.stdout);
    expect(frame).not.toBeNull();
    const line = fs.readFileSync(path.join(ROOT, 'lib', 'redis', 'validate.ts'), 'utf8').split('\n')[Number(frame![1]) - 1];
    expect(line).toContain('v.throwIfInvalid();');
  });

  test('the synth command reads the current sources, never stale compiled output', () => {
    // GIVEN a copy of the project WHEN an environment is added to its sources
    const project = copyProject(path.join(scratch, 'project'));
    fs.rmSync(path.join(project, 'dist'), { recursive: true });
    const { file, source } = devConfigSource(project);
    const dev = source.lastIndexOf('{', source.search(/^[ \t]*name: 'dev',$/m));
    fs.writeFileSync(file, `${source.slice(0, dev)}{ name: 'synth-probe' },\n  ${source.slice(dev)}`);
    // THEN the next synth has it
    expect(synth(project, path.join(project, 'dist')).status).toBe(0);
    expect(fs.readdirSync(path.join(project, 'dist')).sort()).toEqual([INDEX, ...ENVIRONMENT_FOLDERS, 'synth-probe'].sort());
  });

  describe('the plan the synth ends with (scripts/plan.js)', () => {
    test("names what one changed setting changes: dev's scrape interval changes Prometheus's config and Grafana's datasource, and rolls both Deployments", () => {
      // GIVEN a copy of the project whose dist/ is up to date
      const project = copyProject(path.join(scratch, 'project'));
      const out = path.join(project, 'dist');
      const upToDate = synth(project, out);
      expect(upToDate.stderr).toBe('');
      expect(upToDate.stdout).toBe(`plan: no changes to dist (${ENVIRONMENT_FOLDERS.length} environments, ${Object.keys(manifestsDigest(out)).length} objects)\n`);

      // WHEN dev's scrape interval changes and the plan is asked for without writing
      editDevConfig(project, (entry) => entry.replace('scrapeInterval: Duration.seconds(15)', 'scrapeInterval: Duration.seconds(20)'));
      const before = treeDigest(out);
      const dryRun = synth(project, out, {}, ['--dry-run']);

      // THEN it names the changed ConfigMaps (Prometheus's, and Grafana's datasource, whose timeInterval
      // follows the scrape interval) and the Deployments that roll for their checksums, and writes nothing
      expect(dryRun.stderr).toBe('');
      expect(dryRun.status).toBe(0);
      const others = ENVIRONMENT_FOLDERS.filter((e) => e !== 'dev').join(', ');
      expect(dryRun.stdout).toBe([
        'plan: changes to dist',
        'dev: 0 to add, 4 to change, 0 to remove',
        '  ~ ConfigMap dev-grafana-datasources: data.datasources.yaml',
        '  ~ ConfigMap dev-prometheus: data.prometheus.yml',
        '  ~ Deployment dev-grafana: spec.template.metadata.annotations.checksum/provisioning',
        '  ~ Deployment dev-prometheus: spec.template.metadata.annotations.checksum/config',
        '  rolls Deployment dev-grafana: pod template metadata.annotations.checksum/provisioning',
        '  rolls Deployment dev-prometheus: pod template metadata.annotations.checksum/config',
        `no changes: ${others}`,
        '',
      ].join('\n'));
      expect(treeDigest(out)).toEqual(before);
      expect(fs.readdirSync(project).filter((f) => f.startsWith('.dist'))).toEqual([]);

      // AND --json says the same, as JSON
      const json = synth(project, out, {}, ['--dry-run', '--json']);
      expect(json.stderr).toBe('');
      const plan = JSON.parse(json.stdout);
      expect(plan).toMatchObject({ outdir: 'dist', dryRun: true, changes: true });
      expect(Object.keys(plan.environments)).toEqual(ENVIRONMENT_FOLDERS);
      expect(plan.environments.dev).toMatchObject({
        added: [],
        changed: [
          { kind: 'ConfigMap', name: 'dev-grafana-datasources', paths: ['data.datasources.yaml'] },
          { kind: 'ConfigMap', name: 'dev-prometheus', paths: ['data.prometheus.yml'] },
          { kind: 'Deployment', name: 'dev-grafana', paths: ['spec.template.metadata.annotations.checksum/provisioning'] },
          { kind: 'Deployment', name: 'dev-prometheus', paths: ['spec.template.metadata.annotations.checksum/config'] },
        ],
        removed: [],
        rolls: [
          { kind: 'Deployment', name: 'dev-grafana', podTemplate: ['metadata.annotations.checksum/provisioning'] },
          { kind: 'Deployment', name: 'dev-prometheus', podTemplate: ['metadata.annotations.checksum/config'] },
        ],
      });
      for (const other of ENVIRONMENT_FOLDERS.filter((e) => e !== 'dev')) expect(plan.environments[other]).toMatchObject({ added: [], changed: [], removed: [], rolls: [] });

      // AND the synth prints the same plan as it writes the change, then one line, and --quiet nothing
      const written = synth(project, out);
      expect(written.stdout).toBe(dryRun.stdout);
      expect(treeDigest(out)).not.toEqual(before);
      expect(synth(project, out).stdout).toBe(upToDate.stdout);
      const quiet = synth(project, out, {}, ['--quiet']);
      expect([quiet.status, quiet.stdout, quiet.stderr]).toEqual([0, '', '']);
    });

    test('names objects added and removed, and refuses an unknown option', () => {
      // GIVEN an output folder with a stale object, and one object missing
      const out = path.join(scratch, 'dist');
      expect(synth(ROOT, out).stdout).toMatch(new RegExp(`^plan: ${path.relative(ROOT, out).replace(/[.\\/]/g, '\\$&')} held no manifests: \\d+ objects to add \\(dev \\d+, .*\\)\\n$`));
      fs.renameSync(path.join(out, 'dev', 'Namespace.platform-dev.k8s.yaml'), path.join(out, 'dev', 'Namespace.platform-gone.k8s.yaml'));
      const gone = path.join(out, 'dev', 'Namespace.platform-gone.k8s.yaml');
      fs.writeFileSync(gone, fs.readFileSync(gone, 'utf8').replace('name: platform-dev', 'name: platform-gone'));
      // WHEN the synth runs THEN its plan adds the one and removes the other
      const result = synth(ROOT, out);
      expect(result.stdout).toContain('dev: 1 to add, 0 to change, 1 to remove\n  + Namespace platform-dev\n  - Namespace platform-gone\n');
      const unknown = synth(ROOT, out, {}, ['--verbose']);
      expect([unknown.status, unknown.stderr]).toEqual([1, 'synth: unknown option --verbose (options: --quiet, --json, --dry-run)\n']);
      // AND a plan stdout cannot take (a full disk) is dropped, as console.log drops it: the synth still succeeds
      const full = fs.openSync('/dev/full', 'w');
      try {
        const dropped = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'synth.js'), '--json'], { cwd: ROOT, env: { ...process.env, CDK8S_OUTDIR: out }, stdio: ['ignore', full, 'pipe'], encoding: 'utf8' });
        expect([dropped.status, dropped.stderr]).toEqual([0, '']);
      } finally {
        fs.closeSync(full);
      }
    });
  });
});

describe("dist/'s index (scripts/synth-index.js): the texts and verdicts of the synth that wrote it", () => {
  let scratch: string;
  beforeEach(() => (scratch = tempDir('synth-index-test')));
  afterEach(() => fs.rmSync(scratch, { recursive: true, force: true }));

  /**
   * A synth of `project` into its dist/ as a fresh clone's first one runs (every cache in
   * node_modules/.cache empty: only dist/ and its index are there; or `caches` as they are, into
   * `outdir`), and which of js-yaml and the PromQL parser it loaded.
   */
  function freshSynth(project: string, { caches = fs.mkdtempSync(path.join(scratch, 'caches-')), outdir = path.join(project, 'dist') } = {}): { stdout: string; stderr: string; status: number | null; loaded: string[] } {
    const probe = path.join(scratch, 'probe.js');
    const report = path.join(scratch, `loaded-${fs.readdirSync(scratch).length}.json`);
    fs.writeFileSync(probe, `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(report)}, JSON.stringify(Object.keys(require.cache))));`);
    const result = synth(project, outdir, { PLATFORM_STACK_CACHE_DIR: caches, NODE_OPTIONS: `--require ${probe}` });
    const modules: string[] = JSON.parse(fs.readFileSync(report, 'utf8'));
    const loaded = ['js-yaml', '@prometheus-io/lezer-promql'].filter((name) => modules.some((m) => m.includes(`${path.sep}node_modules${path.sep}${name.split('/').join(path.sep)}${path.sep}`)));
    return { ...result, loaded };
  }

  /** Rewrites the index of a project copy's dist/, line by line. */
  function editIndex(project: string, edit: (line: string) => string): void {
    const file = path.join(project, 'dist', INDEX);
    const before = fs.readFileSync(file, 'utf8');
    const after = before.split('\n').map(edit).join('\n');
    expect(after).not.toBe(before);
    fs.writeFileSync(file, after);
  }

  test('is committed with dist/, and is no manifest: not a .yaml, .yml or .json file', () => {
    expect(fs.existsSync(path.join(ROOT, 'dist', INDEX))).toBe(true);
    expect(INDEX).not.toMatch(/\.(ya?ml|json)$/);
  });

  test("serves a fresh clone's synth: with every cache empty it serializes nothing and parses no PromQL, and leaves dist/ as it was", () => {
    // GIVEN a copy of the project, as a fresh clone holds it WHEN it synthesizes with every cache empty
    const project = copyProject(path.join(scratch, 'project'));
    const before = treeDigest(path.join(project, 'dist'));
    const result = freshSynth(project);
    // THEN nothing changed, and neither js-yaml nor the PromQL parser was loaded
    expect([result.status, result.stderr]).toEqual([0, '']);
    expect(result.stdout).toMatch(/^plan: no changes to /);
    expect(treeDigest(path.join(project, 'dist'))).toEqual(before);
    expect(result.loaded).toEqual([]);
  });

  test('a manifest edited by hand is written again, from its object', () => {
    // GIVEN a copy of the project whose dist/ holds a manifest edited by hand
    const project = copyProject(path.join(scratch, 'project'));
    const before = treeDigest(path.join(project, 'dist'));
    const edited = path.join(project, 'dist', 'dev', 'ConfigMap.dev-prometheus.k8s.yaml');
    fs.writeFileSync(edited, fs.readFileSync(edited, 'utf8').replace('scrape_interval: 15s', 'scrape_interval: 16s'));
    // WHEN it synthesizes THEN the plan names the edit it undoes, and dist/ is what it was
    const result = freshSynth(project);
    expect(result.stdout).toContain('  ~ ConfigMap dev-prometheus: data.prometheus.yml\n');
    expect(treeDigest(path.join(project, 'dist'))).toEqual(before);
    expect(result.loaded).toContain('js-yaml');
  });

  test("a manifest edited by hand is written again when the file's hash is known by its status (hashes-by-status.js): the same size, its modification time set back", () => {
    // GIVEN a copy of the project whose dist/ is settled (written over 2 s ago), synthesized once: its files' hashes are recorded by status
    const project = copyProject(path.join(scratch, 'project'));
    const edited = path.join(project, 'dist', 'dev', 'ConfigMap.dev-prometheus.k8s.yaml');
    const wholeSecond = 1_700_000_000;
    fs.utimesSync(edited, wholeSecond, wholeSecond);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2100);
    const caches = fs.mkdtempSync(path.join(scratch, 'caches-'));
    expect(freshSynth(project, { caches }).stdout).toMatch(/^plan: no changes to /);
    const [store] = fs.readdirSync(path.join(caches, 'synth-index')).filter((f) => f.endsWith('.hashes'));
    const recorded = JSON.parse(fs.readFileSync(path.join(caches, 'synth-index', store), 'utf8')).hashes;
    expect(recorded[path.join('dev', 'ConfigMap.dev-prometheus.k8s.yaml')]).toEqual([expect.stringContaining(` ${wholeSecond}000000000 `), expect.any(String)]);
    const before = treeDigest(path.join(project, 'dist'));
    // WHEN the manifest is edited to bytes of the same length and its times set back
    const text = fs.readFileSync(edited, 'utf8');
    fs.writeFileSync(edited, text.replace('scrape_interval: 15s', 'scrape_interval: 16s'));
    fs.utimesSync(edited, wholeSecond, wholeSecond);
    expect(fs.statSync(edited).size).toBe(Buffer.byteLength(text));
    // THEN its new ctime tells it changed: the synth names the edit it undoes, and dist/ is what it was
    const result = freshSynth(project, { caches });
    expect(result.stdout).toContain('  ~ ConfigMap dev-prometheus: data.prometheus.yml\n');
    expect(treeDigest(path.join(project, 'dist'))).toEqual(before);
  });

  test('an entry whose text does not match its hash is not served: embedded files edited in the index, manifests listed under other hashes', () => {
    // GIVEN a copy of the project whose index holds every embedded file edited, and every manifest's hash changed
    const project = copyProject(path.join(scratch, 'project'));
    const before = treeDigest(path.join(project, 'dist'));
    editIndex(project, (line) => {
      if (line.startsWith('text ')) return line.replace(/"$/, ' edited"');
      if (line.startsWith('file ')) return line.replace(/^(file \S+ )\S+/, '$1' + '0'.repeat(40));
      return line;
    });
    // WHEN it synthesizes THEN every text is serialized afresh: dist/ and the index are as committed
    const result = freshSynth(project);
    expect([result.status, result.stderr]).toEqual([0, '']);
    expect(treeDigest(path.join(project, 'dist'))).toEqual(before);
    expect(result.loaded).toContain('js-yaml');
  });

  test('a text another serializer wrote is not served: an edit to lib/core/yaml.ts serializes everything again', () => {
    // GIVEN a copy of the project whose serializer changed since its dist/ was written (a comment is enough)
    const project = copyProject(path.join(scratch, 'project'));
    const before = manifestsDigest(path.join(project, 'dist'));
    fs.appendFileSync(path.join(project, 'lib', 'core', 'yaml.ts'), '// another serializer\n');
    // WHEN it synthesizes THEN it serializes everything (and parses nothing: the parser is the same), and the manifests are as committed
    const result = freshSynth(project);
    expect([result.status, result.stderr]).toEqual([0, '']);
    expect(result.loaded).toEqual(['js-yaml']);
    expect(manifestsDigest(path.join(project, 'dist'))).toEqual(before);
    // AND the next synth is served by the index it wrote
    expect(freshSynth(project).loaded).toEqual([]);
  });

  test('two indexes merged line by line (two branches, two serializers) serve only the lines of the serializer that runs', () => {
    // GIVEN the index another serializer wrote, merged with the committed one (as git's union merge, or a careless conflict resolution)
    const project = copyProject(path.join(scratch, 'project'));
    const serializer = path.join(project, 'lib', 'core', 'yaml.ts');
    const committed = fs.readFileSync(path.join(project, 'dist', INDEX), 'utf8');
    const source = fs.readFileSync(serializer, 'utf8');
    fs.appendFileSync(serializer, '// another serializer\n');
    expect(freshSynth(project).loaded).toEqual(['js-yaml']);
    const other = fs.readFileSync(path.join(project, 'dist', INDEX), 'utf8');
    expect(other).not.toBe(committed);
    fs.writeFileSync(serializer, source);
    const before = manifestsDigest(path.join(project, 'dist'));
    for (const merged of [other + committed, committed + other]) {
      fs.writeFileSync(path.join(project, 'dist', INDEX), merged);
      // WHEN the committed serializer synthesizes THEN the committed lines serve it, and it writes the committed index
      const result = freshSynth(project);
      expect([result.status, result.stderr, result.loaded]).toEqual([0, '', []]);
      expect(manifestsDigest(path.join(project, 'dist'))).toEqual(before);
      expect(fs.readFileSync(path.join(project, 'dist', INDEX), 'utf8')).toBe(committed);
    }
  });

  test('a folder `cdk8s synth` deleted is served by the copy kept in node_modules/.cache: the second synth into an empty folder serializes and parses nothing', () => {
    // GIVEN a cache folder, and a synth into a folder that does not exist (as `cdk8s synth` runs it)
    const caches = fs.mkdtempSync(path.join(scratch, 'caches-'));
    const first = freshSynth(ROOT, { caches, outdir: path.join(scratch, 'out-1') });
    expect([first.status, first.stderr, first.loaded]).toEqual([0, '', ['js-yaml', '@prometheus-io/lezer-promql']]);
    // WHEN the next one does the same THEN the kept copy serves it, and its output is the same
    const second = freshSynth(ROOT, { caches, outdir: path.join(scratch, 'out-2') });
    expect([second.status, second.stderr, second.loaded]).toEqual([0, '', []]);
    expect(treeDigest(path.join(scratch, 'out-2'))).toEqual(treeDigest(path.join(scratch, 'out-1')));
    expect(manifestsDigest(path.join(scratch, 'out-2'))).toEqual(manifestsDigest(path.join(ROOT, 'dist')));
  });

  test("the committed index holds a shipped dashboard's expression as an entry of this parser version, not a bare key", () => {
    const { indexParsedEntry } = require('../scripts/cache-keys');
    const lines = fs.readFileSync(path.join(ROOT, 'dist', INDEX), 'utf8').split('\n').filter((line) => line.startsWith('parsed '));
    expect(lines.length).toBeGreaterThan(0);
    const dashboard = fs.readdirSync(path.join(ROOT, 'dashboards'), { recursive: true, encoding: 'utf8' }).find((f) => f.endsWith('.json'))!;
    const expr = /"expr":\s*("(?:[^"\\]|\\.)*")/.exec(fs.readFileSync(path.join(ROOT, 'dashboards', dashboard), 'utf8'))![1];
    expect(lines).toContain(`parsed ${indexParsedEntry(promqlParserVersion(), promqlParseCacheKey(substituteGrafanaVariables(JSON.parse(expr)).text))}`);
  });
});
