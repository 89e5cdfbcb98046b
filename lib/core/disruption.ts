import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';

/**
 * A PodDisruptionBudget that lets node drains evict `maxUnavailable` pods of the workload at a
 * time. With one replica it still lets a drain through (a short outage) rather than block it.
 */
export function disruptionBudget(scope: Construct, id: string, workload: kplus.Workload, options: { readonly maxUnavailable?: number; readonly labels?: Record<string, string> } = {}): kplus.k8s.KubePodDisruptionBudget {
  return new kplus.k8s.KubePodDisruptionBudget(scope, id, {
    metadata: { labels: options.labels },
    spec: {
      maxUnavailable: kplus.k8s.IntOrString.fromNumber(options.maxUnavailable ?? 1),
      selector: { matchLabels: workload.matchLabels },
    },
  });
}
