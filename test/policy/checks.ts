// The platform gate's own checks over synthesized objects: only what the real tools in the tests
// lack. The API server enforces Pod Security "restricted" (test/cluster.test.ts), kube-score runs
// its own checks (test/kube-tools.test.ts), kubeconform validates every field. Left here:
// - Polaris's danger checks (RBAC exec/attach, wildcards, secrets, cluster-admin bindings,
//   dangerous capabilities): Polaris itself is not served by the Go module proxy;
// - platform/service-account-token: a Pod mounts an API token only when it calls the API;
// - platform/poddisruptionbudget-selector: a PDB that selects no Pod (kube-score only checks that
//   workloads have one);
// - pod-security/*: every pod meets "restricted" and every Namespace enforces it, so that a lower
//   level is an exception listed with its reason (the API server admits what its namespace's level
//   allows; this names what is below "restricted" and why). One check per kind of host access, so an
//   exception for host namespaces still fails the pod on anything else.
// exceptions.ts lists the intended violations with reasons.
import { restrictedViolations } from '../../lib/core/security';
import { K8sObject } from '../support/synth';

export interface Violation {
  /** `<Kind>/<name>` of the object. */
  readonly object: string;
  /** Stable id of the check, e.g. `polaris/rbac-secrets`. */
  readonly check: string;
  readonly detail: string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'ReplicaSet']);
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

/** Polaris's dangerous capabilities. */
function containerChecks(spec: Any): [string, string][] {
  const out: [string, string][] = [];
  for (const c of containersOf(spec)) {
    for (const cap of c.securityContext?.capabilities?.add ?? []) if (DANGEROUS_CAPABILITIES.has(cap)) out.push(['polaris/dangerous-capabilities', `container ${c.name} adds ${cap}`]);
  }
  return out;
}

/** The Pod Security check a "restricted" violation (as `restrictedViolations` words it) belongs to. */
function podSecurityCheck(violation: string): string {
  if (/\.host(Network|PID|IPC) must be false/.test(violation)) return 'pod-security/host-namespaces';
  if (/must not be a hostPath volume/.test(violation)) return 'pod-security/host-path-volumes';
  return 'pod-security/restricted';
}

/** Every check over the objects of one environment. */
export function checkObjects(objects: readonly K8sObject[]): Violation[] {
  const violations: Violation[] = [];
  const add = (object: K8sObject, check: string, detail: string) => violations.push({ object: `${object.kind}/${object.metadata.name}`, check, detail });

  for (const object of objects) {
    const pod = podOf(object);
    if (pod) {
      for (const [check, detail] of containerChecks(pod.spec)) add(object, check, detail);
      // Least privilege: a pod gets an API token only when it calls the API (exceptions.ts lists who).
      if (pod.spec.automountServiceAccountToken !== false) add(object, 'platform/service-account-token', 'mounts a service account token');
      for (const violation of restrictedViolations(pod.spec, 'spec')) add(object, podSecurityCheck(violation), violation);
    }
    if (object.kind === 'Namespace' && object.metadata.labels?.['pod-security.kubernetes.io/enforce'] !== 'restricted') {
      add(object, 'pod-security/namespace-level', `enforces ${object.metadata.labels?.['pod-security.kubernetes.io/enforce'] ?? 'nothing'}, not restricted`);
    }
    if (object.kind === 'PodDisruptionBudget') {
      if (!objects.some((o) => o.metadata.namespace === object.metadata.namespace && podOf(o) && selects(object.spec.selector, podOf(o)!.labels))) add(object, 'platform/poddisruptionbudget-selector', 'selector matches no pod');
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
