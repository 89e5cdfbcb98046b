// The plan of a synth, as `terraform plan` or Argo CD's diff tell it: per environment (a folder of
// the output), the objects added, changed and removed, and the workloads that will roll because
// their pod template changed (a config checksum annotation included). Compares the files the
// output folder held with the files the synth renders; only files whose text differs are parsed
// (js-yaml), so an up-to-date synth parses nothing.
const util = require('util');

/** Workload kinds and where their pod template is: a change there rolls the pods. */
const POD_TEMPLATES = {
  Deployment: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
};
// Paths named per changed object or pod template, at most; the rest are counted.
const MAX_PATHS = 4;

let jsYaml;
/** The objects of one manifest file (a file may hold several documents). */
function objectsOf(text) {
  jsYaml ??= require('js-yaml');
  // YAML 1.2's core schema, as Kubernetes reads manifests: no timestamps, no merge keys.
  return jsYaml.loadAll(text, undefined, { schema: jsYaml.CORE_SCHEMA }).filter((o) => o && typeof o === 'object');
}

const idOf = (o) => `${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name}`;
const refOf = (o) => ({ kind: String(o.kind), name: String(o.metadata?.name) });
const byRef = (a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name);
const isManifest = (file) => /\.ya?ml$/.test(file);
const environmentOf = (file) => file.split(/[\\/]/)[0];

/** The leaf paths where two values differ: `metadata.annotations.x`, `spec.containers[app].image`. */
function differences(a, b, at = '') {
  if (util.isDeepStrictEqual(a, b)) return [];
  if (Array.isArray(a) && Array.isArray(b)) {
    // Lists of named things (containers, volumes, env) by name, others by position.
    const named = [...a, ...b].every((x) => x && typeof x === 'object' && typeof x.name === 'string');
    const keyOf = (x, i) => (named ? x.name : String(i));
    const left = new Map(a.map((x, i) => [keyOf(x, i), x]));
    const right = new Map(b.map((x, i) => [keyOf(x, i), x]));
    return [...new Set([...left.keys(), ...right.keys()])].flatMap((k) => differences(left.get(k), right.get(k), `${at}[${k}]`));
  }
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    return [...new Set([...Object.keys(a), ...Object.keys(b)])].flatMap((k) => differences(a[k], b[k], at ? `${at}.${k}` : k));
  }
  return [at];
}

function podTemplate(o) {
  return POD_TEMPLATES[o.kind]?.reduce((v, k) => v?.[k], o);
}

/**
 * The plan: `before` and `after` map each file of the output folder (`<environment>/<file>`) to its
 * text. Per environment, sorted by kind and name: added, changed (with the paths that changed) and
 * removed objects, and the changed workloads whose pod template changed, with the paths in it.
 */
function planChanges(before, after) {
  const environments = new Map();
  const environment = (name) => {
    if (!environments.has(name)) environments.set(name, { before: new Map(), after: new Map(), objects: 0 });
    return environments.get(name);
  };
  for (const file of new Set([...before.keys(), ...after.keys()])) {
    if (!isManifest(file)) continue;
    const env = environment(environmentOf(file));
    const [was, is] = [before.get(file), after.get(file)];
    if (is !== undefined) env.objects += 1;
    if (was !== undefined && is !== undefined && String(was) === String(is)) continue;
    if (was !== undefined) for (const o of objectsOf(String(was))) env.before.set(idOf(o), o);
    if (is !== undefined) for (const o of objectsOf(String(is))) env.after.set(idOf(o), o);
  }
  const plan = { environments: {} };
  for (const name of [...environments.keys()].sort()) {
    const env = environments.get(name);
    const added = [];
    const changed = [];
    const removed = [];
    const rolls = [];
    for (const [id, o] of env.after) {
      const old = env.before.get(id);
      if (old === undefined) added.push(refOf(o));
      else if (!util.isDeepStrictEqual(old, o)) {
        changed.push({ ...refOf(o), paths: differences(old, o) });
        const paths = differences(podTemplate(old), podTemplate(o));
        if (podTemplate(o) !== undefined && paths.length > 0) rolls.push({ ...refOf(o), podTemplate: paths });
      }
    }
    for (const [id, o] of env.before) if (!env.after.has(id)) removed.push(refOf(o));
    plan.environments[name] = { added: added.sort(byRef), changed: changed.sort(byRef), removed: removed.sort(byRef), rolls: rolls.sort(byRef), objects: env.objects };
  }
  return plan;
}

/** The first paths, and how many more. */
const listed = (paths) => `${paths.slice(0, MAX_PATHS).join(', ')}${paths.length > MAX_PATHS ? ` and ${paths.length - MAX_PATHS} more` : ''}`;

const hasChanges = (env) => env.added.length + env.changed.length + env.removed.length > 0;

/** The plan for a person: one line when nothing changed, else a few lines per environment that changed. */
function formatPlan(plan, outdir) {
  const names = Object.keys(plan.environments);
  const objects = names.reduce((n, name) => n + plan.environments[name].objects, 0);
  const changedNames = names.filter((name) => hasChanges(plan.environments[name]));
  if (changedNames.length === 0) return `plan: no changes to ${outdir} (${names.length} environments, ${objects} objects)`;
  const lines = [`plan: changes to ${outdir}`];
  for (const name of changedNames) {
    const { added, changed, removed, rolls } = plan.environments[name];
    lines.push(`${name}: ${added.length} to add, ${changed.length} to change, ${removed.length} to remove`);
    for (const { kind, name: object } of added) lines.push(`  + ${kind} ${object}`);
    for (const { kind, name: object, paths } of changed) lines.push(`  ~ ${kind} ${object}: ${listed(paths)}`);
    for (const { kind, name: object } of removed) lines.push(`  - ${kind} ${object}`);
    for (const { kind, name: object, podTemplate: paths } of rolls) lines.push(`  rolls ${kind} ${object}: pod template ${listed(paths)}`);
  }
  const unchanged = names.filter((name) => !changedNames.includes(name));
  if (unchanged.length > 0) lines.push(`no changes: ${unchanged.join(', ')}`);
  return lines.join('\n');
}

/**
 * The plan when the output folder held no manifests (a first synth, or `cdk8s synth`, which deletes
 * it first): every object is new, so one line of counts. Parsing every file to list them would
 * cost half a synth (js-yaml's loader runs cold on 770 kB); --json lists them.
 */
function formatFirstPlan(after, outdir) {
  const counts = new Map();
  for (const file of after.keys()) if (isManifest(file)) counts.set(environmentOf(file), (counts.get(environmentOf(file)) ?? 0) + 1);
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const each = [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([name, n]) => `${name} ${n}`).join(', ');
  return `plan: ${outdir} held no manifests: ${total} objects to add (${each})`;
}

const holdsManifests = (files) => [...files.keys()].some(isManifest);

module.exports = { planChanges, formatPlan, formatFirstPlan, hasChanges, holdsManifests };
