import * as fs from 'fs';
import * as path from 'path';
import Ajv, { ValidateFunction } from 'ajv';
import { parseAllDocuments } from 'yaml';
import { K8sObject } from './synth';

// The Kubernetes 1.27 OpenAPI definitions (copied from upstream into the repo, so tests pass on a
// fresh clone) and the prometheus-operator CRDs the stack may emit.
const DEFINITIONS = path.join(__dirname, '..', 'fixtures', 'k8s-schemas', 'v1.27.0', '_definitions.json');
const CRDS = path.join(__dirname, '..', '..', 'imports', 'crds');

type Schema = Record<string, unknown>;

/**
 * Closes every object schema that lists its properties (`additionalProperties: false`): unknown
 * fields are errors, the rule of `kubeconform -strict`. Maps (additionalProperties given) stay open.
 */
function strict(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(strict);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema as Schema)) {
    // `properties` maps field names to schemas: close each schema, not the map itself.
    out[key] = key === 'properties' ? Object.fromEntries(Object.entries(value as Schema).map(([k, v]) => [k, strict(v)])) : strict(value);
  }
  if (out.properties && out.additionalProperties === undefined && !out['x-kubernetes-preserve-unknown-fields']) out.additionalProperties = false;
  return out;
}

/** CRD patterns are Go (RE2) regular expressions: read a leading `(?i)` as JavaScript's `i` flag. */
function goRegExp(pattern: string, flags: string): RegExp {
  const caseless = pattern.replace(/^(\^?)\(\?i\)/, '$1');
  return caseless === pattern ? new RegExp(pattern, flags) : new RegExp(caseless, `${flags}i`);
}
goRegExp.code = 'new RegExp';

function gvkKey(apiVersion: string, kind: string): string {
  return `${apiVersion}/${kind}`;
}

/** Strict validators for every kind of the 1.27 API and of the vendored CRDs, keyed by apiVersion/kind. */
export class K8sSchemaValidator {
  private readonly ajv = new Ajv({ strict: false, allErrors: true, code: { regExp: goRegExp } });
  private readonly refs = new Map<string, string>();
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor() {
    for (const format of ['int32', 'int64', 'double', 'byte', 'date-time']) this.ajv.addFormat(format, true);
    const definitions = (JSON.parse(fs.readFileSync(DEFINITIONS, 'utf8')) as { definitions: Record<string, Schema> }).definitions;
    this.ajv.addSchema({ $id: 'k8s:definitions', definitions: strict(definitions) });
    for (const [name, definition] of Object.entries(definitions)) {
      const gvks = (definition['x-kubernetes-group-version-kind'] ?? []) as { group: string; version: string; kind: string }[];
      for (const { group, version, kind } of gvks) {
        this.refs.set(gvkKey(group ? `${group}/${version}` : version, kind), `k8s:definitions#/definitions/${name}`);
      }
    }
    for (const file of fs.readdirSync(CRDS).filter((f) => f.endsWith('.yaml'))) {
      for (const doc of parseAllDocuments(fs.readFileSync(path.join(CRDS, file), 'utf8'))) {
        const crd = doc.toJS();
        if (crd?.kind !== 'CustomResourceDefinition') continue;
        for (const version of crd.spec.versions) {
          const id = `crd:${crd.spec.group}/${version.name}/${crd.spec.names.kind}`;
          const schema = strict(version.schema.openAPIV3Schema) as Schema;
          // The CRD schema leaves apiVersion/kind/metadata loosely typed: check metadata as the API would.
          (schema.properties as Schema).metadata = { $ref: 'k8s:definitions#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' };
          this.ajv.addSchema({ $id: id, ...schema });
          this.refs.set(gvkKey(`${crd.spec.group}/${version.name}`, crd.spec.names.kind), id);
        }
      }
    }
  }

  /** The problems of one object: schema errors (unknown fields included) and invalid names. */
  validate(object: K8sObject): string[] {
    const key = gvkKey(object.apiVersion, object.kind);
    const ref = this.refs.get(key);
    if (!ref) return [`unknown apiVersion/kind ${key}`];
    let validateFn = this.compiled.get(ref);
    if (!validateFn) {
      validateFn = this.ajv.getSchema(ref) ?? this.ajv.compile({ $ref: ref });
      this.compiled.set(ref, validateFn);
    }
    const problems = validateFn(object)
      ? []
      : (validateFn.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}${e.params && 'additionalProperty' in e.params ? `: ${e.params.additionalProperty}` : ''}`);
    return problems.concat(nameProblems(object));
  }
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const PORT_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
// Kinds whose names must be DNS labels (used in DNS or as label values), not just subdomains.
const LABEL_NAMED_KINDS = new Set(['Namespace', 'Service', 'Deployment', 'StatefulSet', 'DaemonSet', 'Pod', 'Job', 'CronJob']);
// Cluster-scoped kinds that must carry no namespace.
export const CLUSTER_SCOPED_KINDS = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'PersistentVolume', 'StorageClass', 'CustomResourceDefinition', 'PriorityClass']);

function qualifiedNameProblem(key: string): string | undefined {
  const parts = key.split('/');
  const name = parts.pop() ?? '';
  const prefix = parts.join('/');
  if (parts.length > 1 || (prefix && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)))) return `bad prefix in key '${key}'`;
  if (name.length > 63 || !LABEL_NAME.test(name)) return `bad name in key '${key}'`;
  return undefined;
}

/** What the API server checks beyond the OpenAPI schema and kubernetes-models does not: names. */
function nameProblems(object: K8sObject): string[] {
  const problems: string[] = [];
  const { name, namespace, labels = {}, annotations = {} } = object.metadata ?? {};
  const labelNamed = LABEL_NAMED_KINDS.has(object.kind);
  if (typeof name !== 'string' || !(labelNamed ? DNS_LABEL.test(name) && name.length <= 63 : DNS_SUBDOMAIN.test(name) && name.length <= 253)) {
    problems.push(`/metadata/name '${name}' is not a valid DNS ${labelNamed ? 'label' : 'subdomain'}`);
  }
  if (CLUSTER_SCOPED_KINDS.has(object.kind) && namespace !== undefined) problems.push(`/metadata/namespace set on cluster-scoped ${object.kind}`);
  if (namespace !== undefined && !(DNS_LABEL.test(namespace) && namespace.length <= 63)) problems.push(`/metadata/namespace '${namespace}' is not a valid DNS label`);
  for (const [key, value] of Object.entries(labels)) {
    const bad = qualifiedNameProblem(key);
    if (bad) problems.push(`/metadata/labels ${bad}`);
    if (typeof value !== 'string' || value.length > 63 || !LABEL_VALUE.test(value)) problems.push(`/metadata/labels/${key} bad value '${value}'`);
  }
  for (const key of Object.keys(annotations)) {
    const bad = qualifiedNameProblem(key);
    if (bad) problems.push(`/metadata/annotations ${bad}`);
  }
  if (Buffer.byteLength(JSON.stringify(annotations)) > 262144) problems.push('/metadata/annotations exceed 256 KiB');
  if (object.kind === 'ConfigMap' || object.kind === 'Secret') {
    for (const key of Object.keys({ ...object.data, ...object.binaryData })) {
      if (key.length > 253 || !CONFIG_KEY.test(key)) problems.push(`/data key '${key}' is not a valid config key`);
    }
  }
  const pod = object.spec?.template?.spec ?? (object.kind === 'Pod' ? object.spec : undefined);
  if (pod) {
    const containers = [...(pod.containers ?? []), ...(pod.initContainers ?? [])];
    for (const container of containers) {
      if (!DNS_LABEL.test(container.name) || container.name.length > 63) problems.push(`container name '${container.name}' is not a DNS label`);
      for (const port of container.ports ?? []) {
        if (port.name !== undefined && (port.name.length > 15 || !PORT_NAME.test(port.name) || !/[a-z]/.test(port.name))) problems.push(`port name '${port.name}' is not an IANA service name`);
      }
    }
    for (const volume of pod.volumes ?? []) {
      if (!DNS_LABEL.test(volume.name) || volume.name.length > 63) problems.push(`volume name '${volume.name}' is not a DNS label`);
    }
  }
  for (const port of object.kind === 'Service' ? object.spec?.ports ?? [] : []) {
    if (port.name !== undefined && (port.name.length > 15 || !PORT_NAME.test(port.name))) problems.push(`service port name '${port.name}' is not valid`);
  }
  return problems;
}
