// Every intentional exception to the platform gate, in one place, each with its reason.
// An entry matches a violation by check id and object (`Kind/name` without the environment prefix;
// no wildcards, on purpose: each exception is listed on its own).

export interface PolicyException {
  /** `<Kind>/<name without the environment prefix>`, e.g. `ClusterRole/prometheus`. */
  readonly object: string;
  readonly check: string;
  readonly reason: string;
}

export const EXCEPTIONS: readonly PolicyException[] = [
  {
    object: 'Deployment/prometheus',
    check: 'platform/service-account-token',
    reason: 'Prometheus discovers targets through the Kubernetes API and scrapes the kubelets with it: it needs its token (nodes list/watch, nodes/metrics get, GET /metrics cluster-wide; pods/services/endpointslices list/watch only in the namespaces it discovers).',
  },
];
