import { ApiObject, Chart, JsonPatch, Size, SizeRoundingBehavior } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct, IConstruct } from 'constructs';
import { PropValidator } from './validation';

/**
 * The props every construct of this library shares (the convention in README.md, "Contributing"):
 * where its pods run and what extra metadata everything it creates carries.
 */
export interface CommonProps {
  /**
   * Labels added to every object the construct creates (and to its pod templates).
   * @default - none
   */
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * Annotations added to every object the construct creates (and to its pod templates).
   * @default - none
   */
  readonly annotations?: Readonly<Record<string, string>>;
  /**
   * Node labels the construct's pods must run on (`spec.nodeSelector`).
   * @default - any node
   */
  readonly nodeSelector?: Readonly<Record<string, string>>;
  /**
   * Taints the construct's pods tolerate.
   * @default - none
   */
  readonly tolerations?: readonly kplus.k8s.Toleration[];
  /**
   * Node and pod affinity of the construct's pods.
   * @default - none
   */
  readonly affinity?: kplus.k8s.Affinity;
  /**
   * Names of existing Secrets (type kubernetes.io/dockerconfigjson) to pull the images with.
   * @default - none: public registries, or the node's credentials
   */
  readonly imagePullSecrets?: readonly string[];
}

/**
 * How a construct's Service is exposed: the one shape every construct takes as `expose`.
 * Its Service port is always the `port` prop.
 */
export class ServiceExposure {
  /** A ClusterIP Service: reached inside the cluster, or through an ingress. */
  public static clusterIp(): ServiceExposure {
    return new ServiceExposure(kplus.ServiceType.CLUSTER_IP, undefined);
  }

  /** A NodePort Service, on `nodePort` (30000-32767) or on one Kubernetes picks. */
  public static nodePort(nodePort?: number): ServiceExposure {
    return new ServiceExposure(kplus.ServiceType.NODE_PORT, nodePort);
  }

  private constructor(
    /** The Service type. */
    public readonly type: kplus.ServiceType,
    /** The fixed node port, if any. */
    public readonly nodePort: number | undefined,
  ) {}

  /** True when the Service is reached from outside the cluster. */
  public get external(): boolean {
    return this.type !== kplus.ServiceType.CLUSTER_IP;
  }
}

/** Checks the common props and an exposure with `v`. */
export function checkCommonProps(v: PropValidator, props: CommonProps & { readonly expose?: ServiceExposure }): void {
  if (props.expose?.nodePort !== undefined) v.nodePort('expose.nodePort', props.expose.nodePort);
  for (const [i, name] of (props.imagePullSecrets ?? []).entries()) v.dnsSubdomain(`imagePullSecrets[${i}]`, name);
  for (const key of Object.keys(props.labels ?? {})) v.labelKey('labels', key);
  for (const [key, value] of Object.entries(props.labels ?? {})) v.labelValue(`labels.${key}`, value);
  for (const key of Object.keys(props.annotations ?? {})) v.labelKey('annotations', key);
}

/**
 * Applies the common props to what `construct` created: extra metadata on every object (and pod
 * template) below it, placement and pull secrets on every pod template. Call it at the end of the
 * constructor; objects added later by the construct's methods are not covered.
 */
export function applyCommonProps(construct: Construct, props: CommonProps): void {
  const labels = Object.entries(props.labels ?? {});
  const annotations = Object.entries(props.annotations ?? {});
  for (const child of construct.node.findAll()) {
    if (child instanceof kplus.Workload) {
      for (const [key, value] of labels) child.podMetadata.addLabel(key, value);
      for (const [key, value] of annotations) child.podMetadata.addAnnotation(key, value);
      placePods(child, props);
    }
    if (!ApiObject.isApiObject(child)) continue;
    for (const [key, value] of labels) child.metadata.addLabel(key, value);
    for (const [key, value] of annotations) child.metadata.addAnnotation(key, value);
  }
}

/** nodeSelector, tolerations, affinity and imagePullSecrets on a workload's pod template. */
function placePods(workload: kplus.Workload, props: CommonProps): void {
  const apiObject = ApiObject.of(workload);
  const spec = '/spec/template/spec';
  if (props.nodeSelector && Object.keys(props.nodeSelector).length > 0) apiObject.addJsonPatch(JsonPatch.add(`${spec}/nodeSelector`, { ...props.nodeSelector }));
  if (props.tolerations?.length) apiObject.addJsonPatch(JsonPatch.add(`${spec}/tolerations`, props.tolerations.map((t) => kplus.k8s.toJson_Toleration(t))));
  if (props.affinity) apiObject.addJsonPatch(JsonPatch.add(`${spec}/affinity`, kplus.k8s.toJson_Affinity(props.affinity)));
  if (props.imagePullSecrets?.length) apiObject.addJsonPatch(JsonPatch.add(`${spec}/imagePullSecrets`, props.imagePullSecrets.map((name) => ({ name }))));
}

/** The namespace of the construct's chart; fails naming the construct when the chart has none and `what` needs one. */
export function chartNamespace(construct: IConstruct, kind: string, what: string): string {
  const namespace = Chart.of(construct).namespace;
  if (namespace === undefined) {
    const v = new PropValidator(construct, kind);
    v.fail('scope', Chart.of(construct).node.path, `a Chart with a namespace (new Chart(app, id, { namespace: '...' })): ${what} names it`);
    v.throwIfInvalid();
  }
  return namespace!;
}

/** Ephemeral storage of the small fixed containers (exporters, init steps, example backends): logs and at most a 16Mi /tmp. */
export const SIDECAR_EPHEMERAL_STORAGE = { request: Size.mebibytes(16), limit: Size.mebibytes(64) } as const;

/** Container resources with every part set. */
export interface FullResources {
  readonly cpu: { readonly request: kplus.Cpu; readonly limit: kplus.Cpu };
  readonly memory: { readonly request: Size; readonly limit: Size };
  /** Logs, writable layers and disk-backed emptyDirs: the kubelet evicts the pod above the limit. */
  readonly ephemeralStorage: { readonly request: Size; readonly limit: Size };
}

/** `resources` over `defaults`, part by part: setting only a memory limit keeps the default requests. */
export function resolveResources(resources: kplus.ContainerResources | undefined, defaults: FullResources): FullResources {
  return {
    cpu: { request: resources?.cpu?.request ?? defaults.cpu.request, limit: resources?.cpu?.limit ?? defaults.cpu.limit },
    memory: { request: resources?.memory?.request ?? defaults.memory.request, limit: resources?.memory?.limit ?? defaults.memory.limit },
    ephemeralStorage: {
      request: resources?.ephemeralStorage?.request ?? defaults.ephemeralStorage.request,
      limit: resources?.ephemeralStorage?.limit ?? defaults.ephemeralStorage.limit,
    },
  };
}

/** The part of `resources` cdk8s-plus serializes: it writes ephemeral storage in whole Gi only (64Mi fails synth), so `setEphemeralStorage` writes that. */
export function cpuAndMemory(resources: FullResources): kplus.ContainerResources {
  return { cpu: resources.cpu, memory: resources.memory };
}

/** Sets the ephemeral-storage request and limit of `container` (already added to `workload`) in Mi. */
export function setEphemeralStorage(workload: kplus.Workload, container: kplus.Container, storage: FullResources['ephemeralStorage']): void {
  const init = workload.initContainers.indexOf(container);
  const path = init >= 0 ? `/spec/template/spec/initContainers/${init}/resources` : `/spec/template/spec/containers/${workload.containers.indexOf(container)}/resources`;
  // A Quantity, not a string: the Kube* object maps the patched JSON through its typed toJson again.
  const mebibytes = (size: Size) => kplus.k8s.Quantity.fromString(`${size.toMebibytes()}Mi`);
  const apiObject = ApiObject.of(workload);
  apiObject.addJsonPatch(JsonPatch.add(`${path}/requests/ephemeral-storage`, mebibytes(storage.request)));
  apiObject.addJsonPatch(JsonPatch.add(`${path}/limits/ephemeral-storage`, mebibytes(storage.limit)));
}

/** Millicores of a Cpu (`250m`, `1`, `0.5`). */
export function millicores(cpu: kplus.Cpu): number {
  return cpu.amount.endsWith('m') ? Number(cpu.amount.slice(0, -1)) : Number(cpu.amount) * 1000;
}

/** Bytes of a Size; NaN when it is not a whole number of bytes. */
export function bytesOf(size: Size): number {
  const bytes = size.toKibibytes({ rounding: SizeRoundingBehavior.NONE }) * 1024;
  return Number.isInteger(bytes) ? bytes : NaN;
}

/**
 * Checks resolved resources: every amount above 0, each request at most its limit (the API server
 * refuses a pod whose request exceeds its limit). `given` says which parts the user set, so the
 * message says when the other side is a default.
 */
export function checkResources(v: PropValidator, prop: string, resources: FullResources, given: kplus.ContainerResources | undefined): void {
  const note = (set: unknown) => (set === undefined ? ', the default' : '');
  const cpu = { request: millicores(resources.cpu.request), limit: millicores(resources.cpu.limit) };
  v.check(cpu.request > 0, `${prop}.cpu.request`, resources.cpu.request.amount, 'more than 0');
  v.check(cpu.limit > 0, `${prop}.cpu.limit`, resources.cpu.limit.amount, 'more than 0');
  if (cpu.request > cpu.limit) {
    const [which, other] = given?.cpu?.limit !== undefined ? ['limit', 'request'] as const : ['request', 'limit'] as const;
    v.fail(`${prop}.cpu.${which}`, resources.cpu[which].amount, `${which === 'limit' ? 'at least' : 'at most'} ${prop}.cpu.${other} (${resources.cpu[other].amount}${note(given?.cpu?.[other])})`);
  }
  for (const part of ['memory', 'ephemeralStorage'] as const) {
    const sizes = resources[part];
    const bytes = { request: bytesOf(sizes.request), limit: bytesOf(sizes.limit) };
    v.check(bytes.request > 0, `${prop}.${part}.request`, sizes.request.asString(), 'a whole number of bytes, more than 0');
    v.check(bytes.limit > 0, `${prop}.${part}.limit`, sizes.limit.asString(), 'a whole number of bytes, more than 0');
    if (bytes.request > bytes.limit) {
      const [which, other] = given?.[part]?.limit !== undefined ? ['limit', 'request'] as const : ['request', 'limit'] as const;
      v.fail(`${prop}.${part}.${which}`, sizes[which].asString(), `${which === 'limit' ? 'at least' : 'at most'} ${prop}.${part}.${other} (${sizes[other].asString()}${note(given?.[part]?.[other])})`);
    }
  }
}
