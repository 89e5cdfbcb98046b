// The real validators over a folder of manifests, built by `npm run engines`: kubeconform -strict
// with JSON schemas made from the local API server's OpenAPI (test/cluster/kubeconform-schemas.ts),
// and kube-score. The platform gate (gate.ts) runs both on every folder it checks.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { enginePath } from './engines';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

export interface Finding {
  readonly check: string;
  /** `<Kind>/<name>` as in the manifests. */
  readonly object: string;
  readonly detail: string;
}

const yamlFiles = (dir: string) => fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => path.join(dir, f));

/** kube-score's critical findings (grade 1) on the YAML files under `dir`. */
export function kubeScoreCriticals(dir: string): Finding[] {
  const result = spawnSync(enginePath('kube-score'), ['score', '--output-format', 'json', ...yamlFiles(dir)], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0 && result.status !== 1) throw new Error(`kube-score failed (${result.status}): ${result.stderr}`);
  return (JSON.parse(result.stdout) as Json[]).flatMap((scored) => scored.checks
    .filter((check: Json) => !check.skipped && check.grade === 1)
    .map((check: Json) => ({
      check: check.check.id,
      object: `${scored.type_meta.kind}/${scored.object_meta.name}`,
      detail: (check.comments ?? []).map((c: Json) => `${c.path} ${c.summary}`).join('; '),
    })));
}

/** kubeconform -strict's report (`-output json -verbose -summary`) on the YAML files under `dir`. */
export function kubeconform(dir: string, schemas: string): Json {
  const result = spawnSync(enginePath('kubeconform'), ['-strict', '-verbose', '-summary', '-output', 'json', '-schema-location', path.join(schemas, '{{ .ResourceKind }}{{ .KindSuffix }}.json'), dir], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0 && result.status !== 1) throw new Error(`kubeconform failed (${result.status}): ${result.stderr}`);
  return JSON.parse(result.stdout);
}

/** kubeconform -strict's problems on the YAML files under `dir`, one line each. */
export function kubeconformProblems(dir: string, schemas: string): string[] {
  return kubeconform(dir, schemas).resources.filter((r: Json) => r.status !== 'statusValid').map((r: Json) => `${r.kind}/${r.name}: ${r.status} ${r.msg}`);
}
