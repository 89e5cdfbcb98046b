import { ApiObject, Chart, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { IConstruct } from 'constructs';
import { clusterScopedName } from './names';
import { addRenderedCheck, RenderObject } from './rendered-checks';

/**
 * The container security context of Pod Security Standards "restricted": a fixed non-root user,
 * read-only root filesystem, no privilege escalation, every capability dropped (`ALL`, which
 * cdk8s-plus's Capability enum lacks but passes through). `restrictPod` adds the seccomp profile.
 */
export function restrictedContainerSecurityContext(user: number, group: number = user): kplus.ContainerSecurityContextProps {
  return {
    ensureNonRoot: true,
    user,
    group,
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    privileged: false,
    capabilities: { drop: ['ALL' as kplus.Capability] },
  };
}

/** The pod security context of "restricted": non-root user and group; fsGroup so volumes are writable. */
export function restrictedPodSecurityContext(user: number, group: number = user): kplus.PodSecurityContextProps {
  return {
    ensureNonRoot: true,
    user,
    group,
    fsGroup: group,
    // Only chown a volume when its root does not already match: restarts stay fast on big volumes.
    fsGroupChangePolicy: kplus.FsGroupChangePolicy.ON_ROOT_MISMATCH,
  };
}

/**
 * Adds what cdk8s-plus cannot express to a workload's pod template, as "restricted" requires: the
 * RuntimeDefault seccomp profile, and `capabilities.drop: [ALL]` on every container that does not
 * set capabilities itself. Call it after adding the containers; a container added later and
 * lacking it fails the synth's Pod Security check in a namespace that enforces "restricted".
 */
export function restrictPod<T extends kplus.Workload>(workload: T): T {
  const apiObject = ApiObject.of(workload);
  apiObject.addJsonPatch(JsonPatch.add('/spec/template/spec/securityContext/seccompProfile', { type: 'RuntimeDefault' }));
  const dropAll = { drop: ['ALL'] };
  workload.containers.forEach((c, i) => {
    if (!c.securityContext.capabilities) apiObject.addJsonPatch(JsonPatch.add(`/spec/template/spec/containers/${i}/securityContext/capabilities`, dropAll));
  });
  workload.initContainers.forEach((c, i) => {
    if (!c.securityContext.capabilities) apiObject.addJsonPatch(JsonPatch.add(`/spec/template/spec/initContainers/${i}/securityContext/capabilities`, dropAll));
  });
  return workload;
}

/**
 * A cluster-scoped object (ClusterRole, ClusterRoleBinding, Namespace): cdk8s stamps the chart's
 * namespace on every object, which these must not carry. With `rename`, its name starts with the
 * namespace (see `clusterScopedName`), so two apps or environments cannot collide.
 */
export function clusterScoped(construct: IConstruct, options: { readonly rename?: boolean } = {}): void {
  const apiObject = ApiObject.of(construct);
  if (apiObject.metadata.namespace) apiObject.addJsonPatch(JsonPatch.remove('/metadata/namespace'));
  if (options.rename) apiObject.addJsonPatch(JsonPatch.replace('/metadata/name', clusterScopedName(construct)));
}

/** The RBAC subject of a ServiceAccount: it lives in its chart's namespace. */
export function serviceAccountSubject(serviceAccount: kplus.ServiceAccount): kplus.k8s.Subject {
  return { kind: 'ServiceAccount', name: serviceAccount.name, namespace: Chart.of(serviceAccount).namespace ?? 'default' };
}

/** The ClusterRole (`cluster-role`) of `scope`: cluster-scoped, named with the namespace first. */
export function createClusterRole(scope: IConstruct, labels: Readonly<Record<string, string>>, rules: kplus.k8s.PolicyRule[]): kplus.k8s.KubeClusterRole {
  const role = new kplus.k8s.KubeClusterRole(scope, 'cluster-role', { metadata: { name: clusterScopedName(scope), labels: { ...labels } }, rules });
  clusterScoped(role);
  return role;
}

/** Binds `role` to `serviceAccount` (`cluster-role-binding`), named as the role. */
export function bindClusterRole(scope: IConstruct, role: kplus.k8s.KubeClusterRole, labels: Readonly<Record<string, string>>, serviceAccount: kplus.ServiceAccount): void {
  const binding = new kplus.k8s.KubeClusterRoleBinding(scope, 'cluster-role-binding', {
    metadata: { name: clusterScopedName(scope), labels: { ...labels } },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role.name },
    subjects: [serviceAccountSubject(serviceAccount)],
  });
  clusterScoped(binding);
}

/** The label that makes a namespace enforce a Pod Security level. */
export const POD_SECURITY_ENFORCE_LABEL = 'pod-security.kubernetes.io/enforce';

/** The labels of a namespace that enforces Pod Security `level` (as of v1.27, the level checked here) and warns on it. */
export function podSecurityNamespaceLabels(level: 'privileged' | 'baseline' | 'restricted'): Record<string, string> {
  return {
    [POD_SECURITY_ENFORCE_LABEL]: level,
    'pod-security.kubernetes.io/enforce-version': 'v1.27',
    'pod-security.kubernetes.io/warn': level,
  };
}

const checkedCharts = new WeakSet<Chart>();
const secretCheckedCharts = new WeakSet<Chart>();

/**
 * Makes the synth of `scope`'s chart fail on a Secret object with a value (`data` or
 * `stringData`, such as a `new kplus.Secret(...)` given `stringData`): its value would be written
 * into dist/ and the GitOps repository. Secrets are created out of band and referenced by
 * `{ name, key }`. Once per chart, under any App.
 */
export function checkNoSecretValues(scope: IConstruct): void {
  const chart = Chart.of(scope);
  if (secretCheckedCharts.has(chart)) return;
  secretCheckedCharts.add(chart);
  chart.node.addValidation({
    validate: () => chart.node.findAll()
      .filter((c): c is ApiObject => ApiObject.isApiObject(c) && c.kind === 'Secret' && Chart.of(c) === chart)
      .filter((secret) => {
        const json = secret.toJson();
        return Object.keys(json.data ?? {}).length > 0 || Object.keys(json.stringData ?? {}).length > 0;
      })
      .map((secret) => `Secret '${secret.name}' (${secret.node.path}) must not hold a value, got keys ${Object.keys({ ...secret.toJson().data, ...secret.toJson().stringData }).join(', ')}: ` +
        'its value would be written into dist/ and the GitOps repository. Create the Secret out of band (kubectl create secret, a sealed or external secret) and reference it as { name, key }'),
  });
}

/**
 * Makes the synth of `scope`'s chart check every pod template of the chart against Pod Security
 * "restricted" when the chart's namespace enforces it (a Namespace object of the app, with the
 * enforce label, names it): the API server would refuse such pods at run time, while the synth
 * and the apply succeed. Once per chart, under any App, on the objects as written (rendered-checks.ts).
 */
export function checkPodSecurity(scope: IConstruct): void {
  const chart = Chart.of(scope);
  if (checkedCharts.has(chart)) return;
  checkedCharts.add(chart);
  addRenderedCheck(chart, (render) => podSecurityProblems(chart, render));
}

const VOLUME_TYPES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret'];

/** The namespaces of the app that enforce "restricted" (Namespace objects with the enforce label). */
function restrictedNamespaces(chart: Chart): Set<string> {
  return new Set(chart.node.root.node.findAll()
    .filter((c): c is ApiObject => ApiObject.isApiObject(c) && c.kind === 'Namespace' && c.metadata.getLabel(POD_SECURITY_ENFORCE_LABEL) === 'restricted')
    .map((c) => c.name));
}

// Kinds whose objects hold a pod spec: only these are rendered (toJson) for the check.
const POD_TEMPLATE_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'ReplicationController'];
const POD_KINDS = new Set(['Pod', 'CronJob', ...POD_TEMPLATE_KINDS]);

/** A workload's pod spec and where it is in the object, or undefined for objects without pods. */
function podSpec(object: { kind?: string; spec?: Record<string, any> }): { path: string; spec: Record<string, any> } | undefined { // eslint-disable-line @typescript-eslint/no-explicit-any
  if (object.kind === 'Pod') return object.spec ? { path: 'spec', spec: object.spec } : undefined;
  if (object.kind === 'CronJob') {
    const spec = object.spec?.jobTemplate?.spec?.template?.spec;
    return spec ? { path: 'spec.jobTemplate.spec.template.spec', spec } : undefined;
  }
  const spec = object.spec?.template?.spec;
  return spec && POD_TEMPLATE_KINDS.includes(object.kind ?? '') ? { path: 'spec.template.spec', spec } : undefined;
}

/** What "restricted" (v1.27) refuses in a pod spec, as `field: what it must be`. */
export function restrictedViolations(spec: Record<string, any>, path: string): string[] { // eslint-disable-line @typescript-eslint/no-explicit-any
  const problems: string[] = [];
  const pod = spec.securityContext ?? {};
  for (const flag of ['hostNetwork', 'hostPID', 'hostIPC']) if (spec[flag]) problems.push(`${path}.${flag} must be false`);
  for (const volume of spec.volumes ?? []) {
    const type = Object.keys(volume).find((k) => k !== 'name');
    if (type && !VOLUME_TYPES.includes(type)) problems.push(`${path}.volumes[${volume.name}] must not be a ${type} volume (allowed: ${VOLUME_TYPES.join(', ')})`);
  }
  const containers = [...(spec.initContainers ?? []).map((c: any) => ['initContainers', c]), ...(spec.containers ?? []).map((c: any) => ['containers', c])]; // eslint-disable-line @typescript-eslint/no-explicit-any
  for (const [list, container] of containers) {
    const where = `${path}.${list}[${container.name}].securityContext`;
    const context = container.securityContext ?? {};
    const seccomp = context.seccompProfile?.type ?? pod.seccompProfile?.type;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') problems.push(`${where}.seccompProfile.type (or ${path}.securityContext.seccompProfile.type) must be RuntimeDefault or Localhost`);
    if ((context.runAsNonRoot ?? pod.runAsNonRoot) !== true) problems.push(`${where}.runAsNonRoot (or the pod's) must be true`);
    if ((context.runAsUser ?? pod.runAsUser) === 0) problems.push(`${where}.runAsUser must not be 0`);
    if (context.allowPrivilegeEscalation !== false) problems.push(`${where}.allowPrivilegeEscalation must be false`);
    if (context.privileged === true) problems.push(`${where}.privileged must be false`);
    if (!(context.capabilities?.drop ?? []).includes('ALL')) problems.push(`${where}.capabilities.drop must include ALL`);
    const added = (context.capabilities?.add ?? []).filter((c: string) => c !== 'NET_BIND_SERVICE');
    if (added.length > 0) problems.push(`${where}.capabilities.add may only hold NET_BIND_SERVICE, not ${added.join(', ')}`);
    for (const port of container.ports ?? []) if (port.hostPort) problems.push(`${path}.${list}[${container.name}].ports[${port.containerPort}].hostPort must not be set`);
  }
  return problems;
}

function podSecurityProblems(chart: Chart, render: RenderObject): string[] {
  if (chart.namespace === undefined) return [];
  const restricted = restrictedNamespaces(chart);
  if (restricted.size === 0) return [];
  const problems: string[] = [];
  for (const construct of chart.node.findAll()) {
    // Rendering every object cost a sixth of a synth: only those of a kind that holds pods.
    if (!ApiObject.isApiObject(construct) || !POD_KINDS.has(construct.kind) || Chart.of(construct) !== chart) continue;
    // Each pod against its own namespace's level: one of another namespace (node-exporter's, which
    // enforces a lower level on purpose) is not held to the chart's.
    const namespace = construct.metadata.namespace ?? chart.namespace;
    if (!restricted.has(namespace)) continue;
    const pod = podSpec(render(construct));
    if (!pod) continue;
    const violations = restrictedViolations(pod.spec, pod.path);
    if (violations.length === 0) continue;
    problems.push(
      `${construct.kind} '${construct.name}' (${construct.node.path}) would be refused by Pod Security "restricted", which namespace '${namespace}' enforces: ` +
        `${violations.join('; ')}. Fix: build its containers with restrictedContainerSecurityContext(uid) and call restrictPod(workload) after adding them ` +
        '(both from cdk8s-platform-stack), or set these fields yourself',
    );
  }
  return problems;
}
