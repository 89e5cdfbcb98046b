// The platform gate: what every set of manifests must pass before it is applied, whoever
// synthesized it (an environment's dist/<env>, another team's app built on the constructs).
// One function over a folder: the real tools (kube-score, kubeconform -strict with the local API
// server's schemas) and the checks of our own that they lack (test/policy/checks.ts says which).
// Pod Security "restricted" and the API server's name rules are the API server's own, in
// test/cluster.test.ts, which applies the same folders.
import * as fs from 'fs';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';
import { kubeconformSchemaDir } from '../cluster/kubeconform-schemas';
import { checkObjects, Violation } from '../policy/checks';
import { PolicyException } from '../policy/exceptions';
import { findSecretMaterial } from '../policy/secrets';
import { kubeconformProblems, kubeScoreCriticals } from './kube-tools';
import { CLUSTER_DNS, PodGroup, Reachability, podGroups } from './reachability';
import { K8sObject } from './synth';

/** Every object of every `*.yaml` file under `dir`, in file name order. */
export function loadManifests(dir: string): K8sObject[] {
  const files = fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => /\.ya?ml$/.test(f)).sort();
  return files.flatMap((file) => parseAllDocuments(fs.readFileSync(path.join(dir, file), 'utf8')).map((d) => d.toJS() as K8sObject).filter((o) => o !== null));
}

/** `<namespace>/<workload>` pairs whose connection the app wires (allowed) or must not (denied). */
export interface ExpectedConnections {
  readonly allowed?: readonly (readonly [string, string])[];
  readonly denied?: readonly (readonly [string, string])[];
}

export interface GateOptions {
  /** Intended exceptions to the policy checks (kube-score's as `kube-score/<check id>`), by `Kind/name` as in the manifests. */
  readonly exceptions?: readonly PolicyException[];
  /** Connections to check beyond the ones every workload needs (DNS, being scraped). */
  readonly connections?: ExpectedConnections;
}

const CDK8S_NAME_HASH = /-c8[0-9a-f]{6}$/;

/**
 * Every problem of the manifests under `dir`, one line each (none: the gate passes):
 * - policy: kube-score's critical findings, and our own checks of what the real tools lack
 *   (test/policy/checks.ts), beyond the listed exceptions;
 * - secrets: no secret value in the manifests;
 * - schema: kubeconform -strict (unknown fields rejected) with the local API server's schemas;
 * - network: every pod resolves names (DNS egress), Prometheus reaches every pod marked for
 *   scraping on its metrics port, and the expected connections are allowed or denied.
 */
export async function platformGate(dir: string, options: GateOptions = {}): Promise<string[]> {
  const objects = loadManifests(dir);
  if (objects.length === 0) return [`no manifests in ${dir}`];
  return [
    ...policyProblems(kubeScoreViolations(dir), options),
    ...gateObjects(objects, options),
    ...kubeconformProblems(dir, await kubeconformSchemaDir()).map((problem) => `schema ${problem}`),
  ];
}

/** The gate's checks that need no engine (our own policy checks, secrets, network), over objects already loaded. */
export function gateObjects(objects: readonly K8sObject[], options: GateOptions = {}): string[] {
  return [
    ...policyProblems(checkObjects(objects), options),
    ...findSecretMaterial(objects).map((found) => `secrets ${found}`),
    ...networkProblems(objects, options.connections ?? {}),
  ];
}

function policyProblems(violations: readonly Violation[], options: GateOptions): string[] {
  const exceptions = options.exceptions ?? [];
  return violations.filter((v) => !exceptions.some((e) => excepts(e, v))).map((v) => `policy ${v.check} ${v.object}: ${v.detail}`);
}

/** kube-score's critical findings as violations of `kube-score/<check id>`. */
function kubeScoreViolations(dir: string): Violation[] {
  return kubeScoreCriticals(dir).map((f) => ({ ...f, check: `kube-score/${f.check}` }));
}

/** The exceptions no violation of `dir` needs any more. */
export function unusedExceptions(dir: string, exceptions: readonly PolicyException[]): PolicyException[] {
  const violations = [...kubeScoreViolations(dir), ...checkObjects(loadManifests(dir))];
  return exceptions.filter((e) => !violations.some((v) => excepts(e, v)));
}

// A plain cdk8s Chart adds a hash to every name (`orders-api-c8c53a3f`): an exception or a
// connection may name the object without it.
const withoutHash = (name: string) => name.replace(CDK8S_NAME_HASH, '');
const excepts = (e: PolicyException, v: Violation) => e.check === v.check && (e.object === v.object || e.object === withoutHash(v.object));

function networkProblems(objects: readonly K8sObject[], expected: ExpectedConnections): string[] {
  const reachability = new Reachability(objects);
  const groups = podGroups(objects);
  const workloads = groups.filter((g) => g !== CLUSTER_DNS);
  const group = (name: string): PodGroup | string => groups.find((g) => g.name === name || withoutHash(g.name) === name) ?? `network: no workload ${name} (workloads: ${workloads.map((g) => g.name).join(', ')})`;
  const problems: string[] = [];

  for (const pod of workloads) {
    for (const protocol of ['UDP', 'TCP'] as const) {
      if (!reachability.allows({ from: pod, to: CLUSTER_DNS, port: 53, protocol })) problems.push(`network ${pod.name} cannot reach the cluster DNS on 53/${protocol}`);
    }
  }
  const scrapers = workloads.filter((g) => g.labels['app.kubernetes.io/name'] === 'prometheus');
  for (const pod of workloads.filter((g) => g.annotations['prometheus.io/scrape'] === 'true')) {
    const port = Number(pod.annotations['prometheus.io/port']);
    for (const scraper of scrapers) {
      if (!reachability.allows({ from: scraper, to: pod, port })) problems.push(`network ${scraper.name} cannot scrape ${pod.name} on ${port}`);
    }
  }
  // A server is reached when any of its container ports is.
  const reaches = (from: PodGroup, to: PodGroup) => to.ports.some((p) => reachability.allows({ from, to, port: p.number }));
  for (const [wanted, pairs] of [[true, expected.allowed ?? []], [false, expected.denied ?? []]] as const) {
    for (const [fromName, toName] of pairs) {
      const from = group(fromName);
      const to = group(toName);
      if (typeof from === 'string' || typeof to === 'string') {
        problems.push(...[from, to].filter((g): g is string => typeof g === 'string'));
      } else if (reaches(from, to) !== wanted) {
        problems.push(`network ${fromName} -> ${toName} is ${wanted ? 'denied, but the app wires it' : 'allowed, but nothing wires it'}`);
      }
    }
  }
  return problems;
}
