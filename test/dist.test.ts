import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { ENVIRONMENTS } from '../lib';
import { tempDir } from './support/engines';

/** A folder per environment of lib/environments.ts. */
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

function synth(cwd: string, outdir: string) {
  return spawnSync(process.execPath, [path.join(cwd, 'scripts', 'synth.js')], { cwd, env: { ...process.env, CDK8S_OUTDIR: outdir }, encoding: 'utf8' });
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
    const project = path.join(scratch, 'project');
    fs.cpSync(ROOT, project, { recursive: true, filter: (src) => !/[/\\](node_modules|\.git|build|coverage)$/.test(src) });
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(project, 'node_modules'));
    const environments = path.join(project, 'lib', 'environments.ts');
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

  test('the synth command reads the current sources, never stale compiled output', () => {
    // GIVEN a copy of the project WHEN an environment is added to its sources
    const project = path.join(scratch, 'project');
    fs.cpSync(ROOT, project, { recursive: true, filter: (src) => !/[/\\](node_modules|\.git|build|coverage|dist)$/.test(src) });
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(project, 'node_modules'));
    const environments = path.join(project, 'lib', 'environments.ts');
    const source = fs.readFileSync(environments, 'utf8');
    expect(source).toMatch(/^export const ENVIRONMENTS: readonly EnvironmentConfig\[\] = \[$/m);
    fs.writeFileSync(environments, source.replace(/^(export const ENVIRONMENTS: readonly EnvironmentConfig\[\] = \[)$/m, "$1\n  { name: 'synth-probe' },"));
    // THEN the next synth has it
    expect(synth(project, path.join(project, 'dist')).status).toBe(0);
    expect(fs.readdirSync(path.join(project, 'dist')).sort()).toEqual([...ENVIRONMENT_FOLDERS, 'synth-probe'].sort());
  });
});
