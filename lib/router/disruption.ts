import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';

/**
 * A PodDisruptionBudget that lets node drains evict one pod of the workload at a time. Only
 * meaningful with two or more replicas: with one, it would block every drain.
 */
export function onePodAtATime(scope: Construct, id: string, workload: kplus.Deployment, labels: Record<string, string>): kplus.k8s.KubePodDisruptionBudget {
  return new kplus.k8s.KubePodDisruptionBudget(scope, id, {
    metadata: { labels },
    spec: {
      maxUnavailable: kplus.k8s.IntOrString.fromNumber(1),
      selector: { matchLabels: workload.matchLabels },
    },
  });
}
