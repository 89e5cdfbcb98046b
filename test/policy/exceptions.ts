// Every intentional exception to the platform gate, in one place, each with its reason.
// An entry matches a violation by object (`Kind/name`, `*` for the part of the name after the
// environment prefix is not supported on purpose: list each one) and check id.

export interface PolicyException {
  /** `<Kind>/<name without the environment prefix>`, e.g. `ClusterRole/prometheus`. */
  readonly object: string;
  readonly check: string;
  readonly reason: string;
}

export const EXCEPTIONS: readonly PolicyException[] = [];
