// The platform gate's checks over synthesized objects: Pod Security Standards "restricted",
// kube-score's default critical checks, and Polaris's danger checks. Each check returns
// violations as `<check id>: <detail>`; exceptions.ts lists the intended ones with reasons.
import { K8sObject } from '../support/synth';

export interface Violation {
  /** `<Kind>/<name>` of the object. */
  readonly object: string;
  /** Stable id of the check, e.g. `pss/capabilities`. */
  readonly check: string;
  readonly detail: string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'ReplicaSet']);
const PSS_VOLUME_TYPES = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);
const DANGEROUS_CAPABILITIES = new Set(['ALL', 'SYS_ADMIN', 'NET_ADMIN', 'SYS_PTRACE', 'SYS_MODULE', 'NET_RAW', 'DAC_OVERRIDE', 'CHOWN', 'SETUID', 'SETGID', 'FOWNER']);

/** The pod template of a workload (or a Pod's spec), with its labels. */
export function podOf(object: K8sObject): { spec: Any; labels: Record<string, string> } | undefined {
  if (object.kind === 'Pod') return { spec: object.spec, labels: object.metadata.labels ?? {} };
  if (WORKLOAD_KINDS.has(object.kind)) return { spec: object.spec.template.spec, labels: object.spec.template.metadata?.labels ?? {} };
  if (object.kind === 'CronJob') return { spec: object.spec.jobTemplate.spec.template.spec, labels: object.spec.jobTemplate.spec.template.metadata?.labels ?? {} };
  return undefined;
}

function containersOf(spec: Any): Any[] {
  return [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...(spec.ephemeralContainers ?? [])];
}

/** Does `selector` (matchLabels / matchExpressions, or a Service's plain map) select `labels`? */
export function selects(selector: Any, labels: Record<string, string>): boolean {
  if (!selector) return false;
  const matchLabels: Record<string, string> = selector.matchLabels ?? (selector.matchExpressions ? {} : selector);
  if (!Object.entries(matchLabels).every(([k, v]) => labels[k] === v)) return false;
  return (selector.matchExpressions ?? []).every((e: Any) => {
    const has = e.key in labels;
    switch (e.operator) {
      case 'In': return has && e.values.includes(labels[e.key]);
      case 'NotIn': return !has || !e.values.includes(labels[e.key]);
      case 'Exists': return has;
      case 'DoesNotExist': return !has;
      default: return false;
    }
  });
}

/** Pod Security Standards "restricted" (which includes "baseline"), every field of the profile. */
function podSecurityRestricted(spec: Any): [string, string][] {
  const out: [string, string][] = [];
  const podSc = spec.securityContext ?? {};
  for (const field of ['hostNetwork', 'hostPID', 'hostIPC']) if (spec[field] === true) out.push(['pss/host-namespaces', `${field} is true`]);
  for (const volume of spec.volumes ?? []) {
    const type = Object.keys(volume).find((k) => k !== 'name');
    if (!type || !PSS_VOLUME_TYPES.has(type)) out.push(['pss/volume-types', `volume ${volume.name} is ${type}`]);
  }
  if (podSc.runAsUser === 0) out.push(['pss/run-as-user', 'pod runAsUser is 0']);
  if (podSc.sysctls?.length) out.push(['pss/sysctls', 'pod sets sysctls']);
  for (const c of containersOf(spec)) {
    const sc = c.securityContext ?? {};
    const where = `container ${c.name}`;
    if (sc.privileged === true) out.push(['pss/privileged', `${where} is privileged`]);
    const add: string[] = sc.capabilities?.add ?? [];
    if (add.some((cap) => cap !== 'NET_BIND_SERVICE')) out.push(['pss/capabilities', `${where} adds ${add.join(',')}`]);
    if (!(sc.capabilities?.drop ?? []).includes('ALL')) out.push(['pss/capabilities', `${where} does not drop ALL`]);
    if (sc.allowPrivilegeEscalation !== false) out.push(['pss/privilege-escalation', `${where} allowPrivilegeEscalation is not false`]);
    if (!(sc.runAsNonRoot === true || (sc.runAsNonRoot === undefined && podSc.runAsNonRoot === true))) out.push(['pss/run-as-non-root', `${where} runAsNonRoot is not true`]);
    if (sc.runAsUser === 0) out.push(['pss/run-as-user', `${where} runAsUser is 0`]);
    const seccomp = sc.seccompProfile?.type ?? podSc.seccompProfile?.type;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') out.push(['pss/seccomp', `${where} seccompProfile is ${seccomp ?? 'unset'}`]);
    for (const port of c.ports ?? []) if (port.hostPort) out.push(['pss/host-ports', `${where} uses hostPort ${port.hostPort}`]);
    if (sc.procMount && sc.procMount !== 'Default') out.push(['pss/proc-mount', `${where} procMount ${sc.procMount}`]);
    if (sc.seLinuxOptions?.type || sc.seLinuxOptions?.user || sc.seLinuxOptions?.role) out.push(['pss/selinux', `${where} sets SELinux options`]);
    if (sc.windowsOptions?.hostProcess) out.push(['pss/host-process', `${where} is a host process`]);
  }
  return out;
}

/** kube-score's default critical container checks, and Polaris's dangerous capabilities. */
function containerChecks(spec: Any): [string, string][] {
  const out: [string, string][] = [];
  for (const c of containersOf(spec)) {
    const where = `container ${c.name}`;
    const limits = c.resources?.limits ?? {};
    const requests = c.resources?.requests ?? {};
    if (!limits.cpu || !limits.memory) out.push(['kube-score/container-resources', `${where} lacks a CPU or memory limit`]);
    if (!requests.cpu || !requests.memory) out.push(['kube-score/container-resources', `${where} lacks a CPU or memory request`]);
    const image: string = c.image ?? '';
    const tag = image.includes('@') ? 'digest' : image.slice(image.lastIndexOf('/') + 1).split(':')[1];
    if (!tag || tag === 'latest') out.push(['kube-score/container-image-tag', `${where} image '${image}' has no pinned tag`]);
    if (c.securityContext?.privileged === true) out.push(['kube-score/container-security-context-privileged', `${where} is privileged`]);
    if (c.securityContext?.readOnlyRootFilesystem !== true) out.push(['kube-score/container-security-context-readonlyrootfilesystem', `${where} root filesystem is writable`]);
    for (const cap of c.securityContext?.capabilities?.add ?? []) if (DANGEROUS_CAPABILITIES.has(cap)) out.push(['polaris/dangerous-capabilities', `${where} adds ${cap}`]);
  }
  return out;
}

/** Every check over the objects of one environment. */
export function checkObjects(objects: readonly K8sObject[]): Violation[] {
  const violations: Violation[] = [];
  const add = (object: K8sObject, check: string, detail: string) => violations.push({ object: `${object.kind}/${object.metadata.name}`, check, detail });
  const services = objects.filter((o) => o.kind === 'Service');
  const networkPolicies = objects.filter((o) => o.kind === 'NetworkPolicy');
  const pdbs = objects.filter((o) => o.kind === 'PodDisruptionBudget');

  for (const object of objects) {
    const pod = podOf(object);
    if (pod) {
      for (const [check, detail] of [...podSecurityRestricted(pod.spec), ...containerChecks(pod.spec)]) add(object, check, detail);
      const namespace = object.metadata.namespace;
      const behindService = services.some((s) => s.metadata.namespace === namespace && s.spec.selector && selects(s.spec.selector, pod.labels));
      for (const c of pod.spec.containers ?? []) {
        if (behindService && !c.readinessProbe) add(object, 'kube-score/pod-probes', `container ${c.name} behind a Service has no readiness probe`);
        if (c.readinessProbe && c.livenessProbe && JSON.stringify(c.readinessProbe) === JSON.stringify(c.livenessProbe)) add(object, 'kube-score/pod-probes-identical', `container ${c.name} readiness and liveness probes are identical`);
      }
      // Least privilege: a pod gets an API token only when it calls the API (exceptions.ts lists who).
      if (pod.spec.automountServiceAccountToken !== false) add(object, 'platform/service-account-token', 'mounts a service account token');
      if (!networkPolicies.some((np) => np.metadata.namespace === namespace && selects(np.spec.podSelector, pod.labels))) add(object, 'kube-score/pod-networkpolicy', 'no NetworkPolicy selects its pods');
      if (object.spec?.selector && WORKLOAD_KINDS.has(object.kind) && !selects(object.spec.selector, pod.labels)) add(object, 'kube-score/selector-labels', 'selector does not match the template labels');
      if (['Deployment', 'StatefulSet'].includes(object.kind) && (object.spec.replicas ?? 1) >= 2 && !pdbs.some((p) => p.metadata.namespace === namespace && selects(p.spec.selector, pod.labels))) {
        add(object, 'kube-score/deployment-has-poddisruptionbudget', `${object.spec.replicas} replicas and no PodDisruptionBudget`);
      }
      if (object.kind === 'StatefulSet') {
        const headless = services.find((s) => s.metadata.name === object.spec.serviceName && s.metadata.namespace === namespace);
        if (!headless || headless.spec.clusterIP !== 'None' || !selects(headless.spec.selector, pod.labels)) add(object, 'kube-score/statefulset-has-servicename', `serviceName '${object.spec.serviceName}' is not a headless Service selecting its pods`);
      }
    }
    if (object.kind === 'Service' && object.spec.selector) {
      const targets = objects.filter((o) => o.metadata.namespace === object.metadata.namespace && podOf(o) && selects(object.spec.selector, podOf(o)!.labels));
      if (targets.length === 0) add(object, 'kube-score/service-targets-pod', 'selector matches no pod');
    }
    if (object.kind === 'PodDisruptionBudget') {
      if (!objects.some((o) => o.metadata.namespace === object.metadata.namespace && podOf(o) && selects(object.spec.selector, podOf(o)!.labels))) add(object, 'kube-score/poddisruptionbudget-selector', 'selector matches no pod');
    }
    if (object.kind === 'ClusterRole' || object.kind === 'Role') {
      for (const rule of object.rules ?? []) {
        const resources: string[] = rule.resources ?? [];
        const verbs: string[] = rule.verbs ?? [];
        if (resources.some((r) => ['pods/exec', 'pods/attach', '*'].includes(r))) add(object, 'polaris/rbac-exec-attach', `grants ${resources.join(',')}`);
        if (verbs.includes('*') || (rule.apiGroups ?? []).includes('*')) add(object, 'polaris/rbac-wildcard', `grants ${verbs.join(',')} on ${(rule.apiGroups ?? []).join(',')}`);
        if (resources.includes('secrets')) add(object, 'polaris/rbac-secrets', 'grants access to secrets');
      }
    }
    if ((object.kind === 'ClusterRoleBinding' || object.kind === 'RoleBinding') && object.roleRef?.name === 'cluster-admin') add(object, 'polaris/cluster-admin-binding', 'binds cluster-admin');
  }
  return violations;
}
