// Applying a folder of manifests to the local control plane the way a platform team would:
// `kubectl apply --server-side --validate=strict`, CRDs first, then Namespaces, then the rest.
import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import { eventually } from '../support/engines';
import { K8sObject } from '../support/synth';
import { ControlPlane } from './control-plane';

/** Every object of every YAML file in `dir`, with the file it came from. */
export function readManifests(dir: string): { file: string; object: K8sObject }[] {
  return fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort().flatMap((f) => {
    const file = path.join(dir, f);
    return YAML.parseAllDocuments(fs.readFileSync(file, 'utf8')).map((d) => ({ file, object: d.toJS() as K8sObject })).filter((m) => m.object);
  });
}

/** `Kind/name` as the tests name objects. */
export function objectName(object: K8sObject): string {
  return `${object.kind}/${object.metadata.name}`;
}

/** `Kind/namespace/name` (`Kind/name` when cluster-scoped): unique in a cluster, where an app may have one name in several namespaces. */
export function objectKey(object: K8sObject): string {
  return object.metadata.namespace ? `${object.kind}/${object.metadata.namespace}/${object.metadata.name}` : objectName(object);
}

/** kubectl's `<resource>.<group>/<name>` of an applied-object line, to `Kind/name`. */
function appliedNames(stdout: string, objects: readonly K8sObject[]): Set<string> {
  const applied = new Set<string>();
  for (const line of stdout.split('\n')) {
    const match = /^(\S+)\/(\S+) serverside-applied$/.exec(line.trim());
    if (!match) continue;
    const resource = match[1].split('.')[0];
    const object = objects.find((o) => o.metadata.name === match[2] && resource === o.kind.toLowerCase());
    if (object) applied.add(objectName(object));
  }
  return applied;
}

/**
 * Server-side applies `objects` (as the field manager `platform-tests`). Throws when kubectl fails,
 * naming each object the server did not take and quoting the server's messages; returns kubectl's
 * stderr, where the server's warnings go.
 */
export function serverSideApply(cluster: ControlPlane, objects: readonly K8sObject[]): string {
  const input = objects.map((o) => YAML.stringify(o)).join('---\n');
  const result = cluster.kubectlResult(['apply', '--server-side', '--validate=strict', '--field-manager=platform-tests', '-f', '-'], input);
  if (result.status !== 0) {
    const applied = appliedNames(result.stdout, objects);
    const refused = objects.filter((o) => !applied.has(objectName(o))).map(objectName);
    throw new Error(`kubectl apply --server-side refused ${refused.join(', ')}; the API server said:\n${result.stderr.trim()}`);
  }
  return result.stderr;
}

async function until(what: string, probe: () => boolean, timeoutMs = 60_000): Promise<void> {
  await eventually(() => probe() || undefined, timeoutMs, () => `${what}: not within ${timeoutMs} ms`, 250);
}

const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob', 'Pod'];

/**
 * Applies a folder in the order a cluster needs, as Helm and Argo CD order kinds: CRDs (then waits
 * until they are served); Namespaces (then waits for their "default" ServiceAccount, which the
 * controller-manager adds); everything but workloads; then workloads, so a Pod's ServiceAccount
 * exists before its controller creates it. Returns kubectl's stderr of every step (its warnings).
 */
export async function applyFolder(cluster: ControlPlane, dir: string): Promise<string> {
  const objects = readManifests(dir).map((m) => m.object);
  const crds = objects.filter((o) => o.kind === 'CustomResourceDefinition');
  const namespaces = objects.filter((o) => o.kind === 'Namespace');
  const workloads = objects.filter((o) => WORKLOAD_KINDS.includes(o.kind));
  const rest = objects.filter((o) => !crds.includes(o) && !namespaces.includes(o) && !workloads.includes(o));
  let warnings = '';
  if (crds.length) {
    warnings += serverSideApply(cluster, crds);
    for (const crd of crds) cluster.kubectl(['wait', '--for=condition=Established', '--timeout=60s', `crd/${crd.metadata.name}`]);
  }
  if (namespaces.length) {
    warnings += serverSideApply(cluster, namespaces);
    for (const ns of namespaces) await until(`ServiceAccount default in ${ns.metadata.name}`, () => cluster.kubectlResult(['get', 'serviceaccount', 'default', '-n', ns.metadata.name]).status === 0);
  }
  if (rest.length) warnings += serverSideApply(cluster, rest);
  if (workloads.length) warnings += serverSideApply(cluster, workloads);
  return warnings;
}

/** The live objects of a folder by objectKey, without what the cluster writes on its own (status, versions, managers). */
export function liveObjects(cluster: ControlPlane, dir: string): Record<string, unknown> {
  const live = JSON.parse(cluster.kubectl(['get', '-f', dir, '-o', 'json'])) as { items: K8sObject[] };
  return Object.fromEntries(live.items.map((o) => {
    const copy = structuredClone(o);
    delete copy.status;
    delete (copy.metadata as Record<string, unknown>).resourceVersion;
    delete (copy.metadata as Record<string, unknown>).managedFields;
    return [objectKey(o), copy];
  }));
}
