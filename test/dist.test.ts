import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { ENVIRONMENTS } from '../app/environments';
import { tempDir } from './support/engines';

/** A folder per environment of app/environments.ts. */
const ENVIRONMENT_FOLDERS = ENVIRONMENTS.map((e) => e.name).sort();

const ROOT = path.join(__dirname, '..');

/** Every file below `dir`, relative path -> sha256 of its bytes. */
function treeDigest(dir: string): Record<string, string> {
  const digest: Record<string, string> = {};
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    digest[path.relative(dir, file)] = createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  }
  return digest;
}

function synth(cwd: string, outdir: string, env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [path.join(cwd, 'scripts', 'synth.js')], { cwd, env: { ...process.env, ...env, CDK8S_OUTDIR: outdir }, encoding: 'utf8' });
}

/** A copy of the project (sources and dist/) sharing node_modules, caches included. */
function copyProject(to: string): string {
  fs.cpSync(ROOT, to, { recursive: true, filter: (src) => !/[/\\](node_modules|\.git|build|coverage|\.bench|\.engines)$/.test(src) });
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
    // THEN the output is the committed dist/, in a folder per environment
    const fresh = treeDigest(path.join(scratch, 'dist'));
    expect(Object.keys(fresh).map((f) => f.split(path.sep)[0]).filter((v, i, a) => a.indexOf(v) === i).sort()).toEqual(ENVIRONMENT_FOLDERS);
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
    expect(fs.readdirSync(out).sort()).toEqual(ENVIRONMENT_FOLDERS);
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
    const environments = path.join(project, 'app', 'environments.ts');
    const source = fs.readFileSync(environments, 'utf8');
    expect(source).toContain("name: 'dev',");
    fs.writeFileSync(environments, source.replace("name: 'dev',", "name: 'Dev_1',"));
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

  test("the synth loads cdk8s's `yaml` library only on first use, and cdk8s's Yaml works as before", () => {
    // GIVEN the synth's loader hook (scripts/lazy-yaml.js) WHEN cdk8s loads THEN `yaml` is not loaded
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
    const probe = `
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
    const environments = path.join(project, 'app', 'environments.ts');
    const source = fs.readFileSync(environments, 'utf8');
    expect(source).toMatch(/^export const ENVIRONMENTS: readonly EnvironmentConfig\[\] = \[$/m);
    fs.writeFileSync(environments, source.replace(/^(export const ENVIRONMENTS: readonly EnvironmentConfig\[\] = \[)$/m, "$1\n  { name: 'synth-probe' },"));
    // THEN the next synth has it
    expect(synth(project, path.join(project, 'dist')).status).toBe(0);
    expect(fs.readdirSync(path.join(project, 'dist')).sort()).toEqual([...ENVIRONMENT_FOLDERS, 'synth-probe'].sort());
  });
});
