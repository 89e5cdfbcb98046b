// JSON schemas for kubeconform, made offline from a running API server's /openapi/v2, in the layout
// kubeconform reads (`<kind>[-<group>]-<version>.json` beside one `_definitions.json`) and in its
// "strict" flavour: every object schema that lists its properties rejects any other field.
// Written once per Kubernetes version into .engines/cache/ (gitignored): by the cluster suite, or
// by the first caller of kubeconformSchemaDir(), which starts a control plane for it.
import * as fs from 'fs';
import * as path from 'path';
import { ControlPlane, startControlPlane } from './control-plane';

type Schema = Record<string, unknown>;

const { ENGINES_DIR, ENGINES } = require('../../scripts/engines/table') as { ENGINES_DIR: string; ENGINES: { name: string; version: string }[] };
/** The Kubernetes version the engines build: the control plane's, so the schemas' key. */
const KUBERNETES_VERSION = ENGINES.find((e) => e.name === 'kubernetes')!.version;
const SCHEMA_DIR = path.join(ENGINES_DIR, 'cache', 'kubeconform-schemas', KUBERNETES_VERSION);
const cached = () => fs.existsSync(path.join(SCHEMA_DIR, '_definitions.json'));

/** What openapi2jsonschema does to Kubernetes definitions, for a JSON-schema validator. */
function toJsonSchema(schema: unknown, refPrefix: string): unknown {
  if (Array.isArray(schema)) return schema.map((s) => toJsonSchema(s, refPrefix));
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema as Schema)) {
    if (key === '$ref') out.$ref = (value as string).replace(/^#\/definitions\//, `${refPrefix}#/definitions/`);
    // `properties` maps field names to schemas: convert each schema, not the map itself.
    else if (key === 'properties') out.properties = Object.fromEntries(Object.entries(value as Schema).map(([k, v]) => [k, toJsonSchema(v, refPrefix)]));
    else out[key] = toJsonSchema(value, refPrefix);
  }
  // int-or-string fields (ports, maxUnavailable) take either; the API server reads both.
  if (out.format === 'int-or-string') {
    delete out.format;
    out.type = ['string', 'integer'];
  }
  if (out.properties && out.additionalProperties === undefined && !out['x-kubernetes-preserve-unknown-fields']) out.additionalProperties = false;
  return out;
}

/** The schema folder for the control plane's Kubernetes version, made from `cluster` if missing. */
export function kubeconformSchemas(cluster: ControlPlane): string {
  const version = JSON.parse(cluster.kubectl(['version', '-o', 'json'])).serverVersion.gitVersion as string;
  if (version !== KUBERNETES_VERSION) throw new Error(`the control plane is ${version}, the engines table says ${KUBERNETES_VERSION}`);
  const dir = SCHEMA_DIR;
  if (cached()) return dir;

  const fetched = cluster.kubectlResult(['get', '--raw', '/openapi/v2']);
  if (fetched.status !== 0) throw new Error(`kubectl get --raw /openapi/v2: ${fetched.stderr}`);
  const openapi = JSON.parse(fetched.stdout) as { definitions: Record<string, Schema> };
  const definitions = openapi.definitions;
  // Quantities (`cpu: 1`, `memory: 1Gi`) are strings or numbers to the API server.
  definitions['io.k8s.apimachinery.pkg.api.resource.Quantity'] = { ...definitions['io.k8s.apimachinery.pkg.api.resource.Quantity'], type: ['string', 'number'] };
  // Test files run in parallel: each writes its own copy, the first rename wins.
  const staging = `${dir}.partial-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(staging, { recursive: true });
  fs.writeFileSync(path.join(staging, '_definitions.json'), JSON.stringify({ definitions: toJsonSchema(definitions, '') }));
  for (const [name, definition] of Object.entries(definitions)) {
    for (const { group, version: apiVersion, kind } of (definition['x-kubernetes-group-version-kind'] ?? []) as { group: string; version: string; kind: string }[]) {
      if (!name.endsWith(`.${kind}`)) continue; // shared types (DeleteOptions, WatchEvent) list every group
      const file = `${kind.toLowerCase()}${group ? `-${group.split('.')[0]}` : ''}-${apiVersion}.json`;
      fs.writeFileSync(path.join(staging, file), JSON.stringify(toJsonSchema({ $ref: `#/definitions/${name}` }, '_definitions.json')));
    }
  }
  try {
    fs.renameSync(staging, dir);
  } catch (error) {
    fs.rmSync(staging, { recursive: true, force: true });
    if (!cached()) throw error;
  }
  return dir;
}

/** The schema folder, made once per Kubernetes version by a control plane started for it. */
export async function kubeconformSchemaDir(): Promise<string> {
  if (cached()) return SCHEMA_DIR;
  const cluster = await startControlPlane();
  try {
    return kubeconformSchemas(cluster);
  } finally {
    await cluster.stop();
  }
}
