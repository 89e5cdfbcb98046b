// Every intentional exception to the platform gate, in one place, each with its reason: our own
// checks' (test/policy/checks.ts) and kube-score's critical findings.
// An entry matches a violation by check id and object (`Kind/name` without the environment prefix,
// or with `<env>` where the environment sits elsewhere in the name; no wildcards, on purpose: each
// exception is listed on its own).

import { NODE_EXPORTER_POD_SECURITY } from '../../lib/node-exporter/node-exporter';

export interface PolicyException {
  /** `<Kind>/<name without the environment prefix>`, e.g. `ClusterRole/prometheus`. */
  readonly object: string;
  readonly check: string;
  readonly reason: string;
}

/** Why node-exporter's namespace and pods are below Pod Security "restricted" (the construct's own words). */
const NODE_EXPORTER_REASON = NODE_EXPORTER_POD_SECURITY.reason;

const PLATFORM_EXCEPTIONS: readonly PolicyException[] = [
  // The only pods below "restricted": node-exporter, in a namespace of its own. Only these two kinds
  // of host access; anything else "restricted" asks of them (pod-security/restricted) still fails.
  { object: 'Namespace/platform-<env>-node-exporter', check: 'pod-security/namespace-level', reason: NODE_EXPORTER_REASON },
  { object: 'DaemonSet/node-exporter', check: 'pod-security/host-namespaces', reason: NODE_EXPORTER_REASON },
  { object: 'DaemonSet/node-exporter', check: 'pod-security/host-path-volumes', reason: NODE_EXPORTER_REASON },
  {
    object: 'Deployment/prometheus',
    check: 'platform/service-account-token',
    reason: 'Prometheus discovers targets through the Kubernetes API and scrapes the kubelets with it: it needs its token (nodes list/watch, nodes/metrics get, GET /metrics cluster-wide; pods/services/endpointslices list/watch only in the namespaces it discovers).',
  },
  {
    object: 'Deployment/kube-state-metrics',
    check: 'platform/service-account-token',
    reason: 'kube-state-metrics lists and watches the objects it exports through the Kubernetes API: it needs its token (ClusterRole: list/watch of exactly those kinds).',
  },
];

/** The kube-score checks (ids as in `kube-score list`) not met on purpose, each with its reason: the same for every app on the constructs. */
export const KUBE_SCORE_REASONS = {
  'container-image-pull-policy': 'Every image is pinned to a version tag (kube-score container-image-tag passes) and no imagePullSecrets are used: IfNotPresent lets a Pod restart while the registry is unreachable.',
  'container-security-context-user-group-id': "The official images own their files as their own user (nginx-unprivileged 101, grafana 472, node 1000, redis 999); another UID cannot read them. runAsNonRoot is set and the API server admits the Pods under Pod Security \"restricted\".",
} as const;

/** The exceptions to kube-score's `check` (as the gate names it, `kube-score/<id>`) for each of `objects` (`Kind/name`), listed one by one. */
export function kubeScoreExceptions(check: keyof typeof KUBE_SCORE_REASONS, objects: readonly string[]): PolicyException[] {
  return objects.map((object) => ({ object, check: `kube-score/${check}`, reason: KUBE_SCORE_REASONS[check] }));
}

const WORKLOADS = ['DaemonSet/node-exporter', 'Deployment/example-backends', 'Deployment/grafana', 'Deployment/nginx', 'Deployment/prometheus', 'Deployment/router', 'Deployment/kube-state-metrics', 'StatefulSet/alertmanager', 'StatefulSet/redis'];

/** Every exception of the environments' manifests (names without the environment prefix). */
export const EXCEPTIONS: readonly PolicyException[] = [
  ...PLATFORM_EXCEPTIONS,
  ...kubeScoreExceptions('container-image-pull-policy', WORKLOADS),
  ...kubeScoreExceptions('container-security-context-user-group-id', ['Deployment/example-backends', 'Deployment/grafana', 'Deployment/nginx', 'Deployment/router', 'StatefulSet/redis']),
];
