// kube-score, the real one (`npm run engines`), on every folder of manifests: 0 critical findings
// beyond the exceptions listed with their reasons in test/policy/exceptions.ts. (kubeconform runs
// in test/cluster.test.ts: its schemas come from the local API server.)
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ENVIRONMENTS } from '../app/environments';
import { KUBE_SCORE_EXCEPTIONS } from './policy/exceptions';
import { enginePath, tempDir } from './support/engines';

const ROOT = path.join(__dirname, '..');

/** The manifest folders checked: every environment of dist/ (add an app's output here). */
const MANIFEST_FOLDERS: readonly { name: string; dir: string; prefix: string }[] = ENVIRONMENTS.map((e) => ({ name: e.name, dir: path.join(ROOT, 'dist', e.name), prefix: `${e.name}-` }));

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

interface Finding {
  readonly check: string;
  /** `<Kind>/<name without the environment prefix>`. */
  readonly object: string;
  readonly detail: string;
}

/** kube-score's critical findings (grade 1) on the YAML files of `dir`. */
function kubeScoreCriticals(dir: string, prefix: string): Finding[] {
  const files = fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).map((f) => path.join(dir, f));
  const result = spawnSync(enginePath('kube-score'), ['score', '--output-format', 'json', ...files], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0 && result.status !== 1) throw new Error(`kube-score failed (${result.status}): ${result.stderr}`);
  const findings: Finding[] = [];
  for (const scored of JSON.parse(result.stdout) as Json[]) {
    const name: string = scored.object_meta.name;
    const object = `${scored.type_meta.kind}/${name.startsWith(prefix) ? name.slice(prefix.length) : name}`;
    for (const check of scored.checks) {
      if (check.skipped || check.grade !== 1) continue;
      findings.push({ check: check.check.id, object, detail: (check.comments ?? []).map((c: Json) => `${c.path} ${c.summary}`).join('; ') });
    }
  }
  return findings;
}

const excepted = (f: Finding) => KUBE_SCORE_EXCEPTIONS.some((e) => e.check === f.check && e.objects.includes(f.object));

const FINDINGS = new Map(MANIFEST_FOLDERS.map((f) => [f.name, kubeScoreCriticals(f.dir, f.prefix)]));

describe.each(MANIFEST_FOLDERS)('kube-score on $name', ({ name }) => {
  test('0 critical findings beyond the listed exceptions', () => {
    const findings = FINDINGS.get(name)!;
    console.log(`[${name}] kube-score: ${findings.length} critical findings, ${findings.filter(excepted).length} of them listed exceptions (${[...new Set(findings.map((f) => f.check))].sort().join(', ') || 'none'})`);
    expect(findings.filter((f) => !excepted(f))).toEqual([]);
  });
});

test('every kube-score exception is still needed by some folder', () => {
  const all = [...FINDINGS.values()].flat();
  const unused = KUBE_SCORE_EXCEPTIONS.flatMap((e) => e.objects.filter((o) => !all.some((f) => f.check === e.check && f.object === o)).map((o) => `${e.check} ${o}`));
  expect(unused).toEqual([]);
});

describe('kube-score catches', () => {
  let dir: string;
  beforeAll(() => (dir = tempDir('kube-score')));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('a workload without limits, on a latest tag, with a writable root filesystem and no NetworkPolicy', () => {
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'ns' },
      spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:latest' }] } } },
    };
    fs.writeFileSync(path.join(dir, 'web.yaml'), JSON.stringify(deployment));
    const checks = new Set(kubeScoreCriticals(dir, '').map((f) => f.check));
    expect([...checks]).toEqual(expect.arrayContaining(['container-resources', 'container-image-tag', 'container-security-context-readonlyrootfilesystem', 'pod-networkpolicy']));
  });
});
