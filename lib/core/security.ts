import { ApiObject, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { IConstruct } from 'constructs';

/**
 * The container security context of Pod Security Standards "restricted": a fixed non-root user,
 * read-only root filesystem, no privilege escalation. `restrictPod` adds what cdk8s-plus cannot
 * express: seccomp and dropping every capability.
 */
export function restrictedContainerSecurityContext(user: number, group: number = user): kplus.ContainerSecurityContextProps {
  return {
    ensureNonRoot: true,
    user,
    group,
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    privileged: false,
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
 * RuntimeDefault seccomp profile, and `capabilities.drop: [ALL]` on every container (cdk8s-plus
 * only knows `CAP_`-prefixed names, which Kubernetes does not accept as ALL). Patches are added
 * just before synthesis, so containers added after this call are covered too.
 */
export function restrictPod(workload: kplus.Workload): void {
  let patched = false;
  workload.node.addValidation({
    validate: () => {
      if (patched) return [];
      patched = true;
      const apiObject = ApiObject.of(workload);
      apiObject.addJsonPatch(JsonPatch.add('/spec/template/spec/securityContext/seccompProfile', { type: 'RuntimeDefault' }));
      const dropAll = { drop: ['ALL'] };
      workload.containers.forEach((_, i) => apiObject.addJsonPatch(JsonPatch.add(`/spec/template/spec/containers/${i}/securityContext/capabilities`, dropAll)));
      workload.initContainers.forEach((_, i) => apiObject.addJsonPatch(JsonPatch.add(`/spec/template/spec/initContainers/${i}/securityContext/capabilities`, dropAll)));
      return [];
    },
  });
}

/**
 * cdk8s stamps the chart's namespace on every object; cluster-scoped ones (ClusterRole,
 * ClusterRoleBinding, Namespace) must not carry one.
 */
export function clusterScoped(construct: IConstruct): void {
  const apiObject = ApiObject.of(construct);
  if (apiObject.metadata.namespace) apiObject.addJsonPatch(JsonPatch.remove('/metadata/namespace'));
}
