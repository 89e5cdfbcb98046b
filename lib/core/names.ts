import { createHash } from 'crypto';
import { ApiObject, Chart } from 'cdk8s';
import { IConstruct } from 'constructs';

/**
 * Object names. Every name is `<chart>-<construct id path>` without the ids `Resource` and
 * `Default` (the primary object of a construct), as cdk8s names them with hashes disabled; a name
 * over the limit keeps its chart prefix and ends in a hash of the full construct path, so two long
 * paths never truncate to the same name.
 */

const MAX_NAME = 63;
const HASH_LENGTH = 8;

/** The name of the objects of `construct` (its primary object's name), with `suffix` appended. */
export function constructName(construct: IConstruct, ...suffix: string[]): string {
  const components = [...construct.node.scopes.slice(1).map((c) => c.node.id), ...suffix]
    .map((c) => c.toLowerCase().replace(/[^0-9a-z-]/g, ''))
    .filter((c, i, all) => c !== '' && c !== all[i - 1])
    .filter((c) => c !== 'resource' && c !== 'default');
  const name = components.join('-').replace(/-+/g, '-').replace(/^-|-$/g, '');
  if (name.length <= MAX_NAME) return name;
  const hash = createHash('sha256').update([construct.node.path, ...suffix].join('/')).digest('hex').slice(0, HASH_LENGTH);
  return `${name.slice(0, MAX_NAME - HASH_LENGTH - 1).replace(/-+$/, '')}-${hash}`;
}

/** The value of `app.kubernetes.io/instance` for a construct: its name. */
export function instanceName(construct: IConstruct): string {
  return constructName(construct);
}

/**
 * A cluster-scoped object's name (ClusterRole, ClusterRoleBinding): the namespace first, so two
 * apps or environments in different namespaces never collide.
 */
export function clusterScopedName(construct: IConstruct): string {
  const namespace = Chart.of(construct).namespace ?? 'default';
  const name = constructName(construct);
  const full = `${namespace}-${name}`;
  if (full.length <= 253) return full;
  return `${full.slice(0, 253 - HASH_LENGTH - 1)}-${createHash('sha256').update(full).digest('hex').slice(0, HASH_LENGTH)}`;
}

// Kinds without a namespace: their names are unique in the cluster.
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'StorageClass', 'PersistentVolume', 'CustomResourceDefinition', 'PriorityClass', 'IngressClass']);

const checkedCharts = new WeakSet<Chart>();

/**
 * Makes the synth of `scope`'s chart fail when two objects of the whole app would get the same
 * kind, namespace and name (the API server would keep the last one applied), naming both construct
 * paths. Once per chart, under any App.
 */
export function checkUniqueNames(scope: IConstruct): void {
  const chart = Chart.of(scope);
  if (checkedCharts.has(chart)) return;
  checkedCharts.add(chart);
  chart.node.addValidation({ validate: () => nameCollisions(chart) });
}

/** Collisions of the objects of `chart` with earlier objects of the app (each reported by the later one's chart). */
function nameCollisions(chart: Chart): string[] {
  const seen = new Map<string, ApiObject>();
  const problems: string[] = [];
  for (const construct of chart.node.root.node.findAll()) {
    if (!ApiObject.isApiObject(construct)) continue;
    const group = construct.apiVersion.includes('/') ? construct.apiVersion.split('/')[0] : '';
    const namespace = CLUSTER_SCOPED.has(construct.kind) ? '' : construct.metadata.namespace ?? '';
    const key = `${group}/${construct.kind}/${namespace}/${construct.name}`;
    const other = seen.get(key);
    if (other && Chart.of(construct) === chart) {
      problems.push(`${construct.kind} '${construct.name}'${namespace ? ` in namespace '${namespace}'` : ''} is made by both ${other.node.path} and ${construct.node.path}: the cluster would keep only one; give them different ids or names`);
    } else if (!other) {
      seen.set(key, construct);
    }
  }
  return problems;
}
