// The workload alerts kube-state-metrics makes possible, which it brings to the app's Prometheus
// (addMonitoring); every alert has a `promtool test rules` test under test/prometheus/. After
// kube-prometheus's kubernetes mixin.
import type { RuleGroup } from '../prometheus/rules';

/** Containers restarting in a loop, and Deployments short of the replicas they ask for. */
export function kubeStateMetricsRuleGroup(): RuleGroup {
  return {
    name: 'kube-state-metrics',
    rules: [
      {
        alert: 'KubePodCrashLooping',
        expr: 'max_over_time(kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff"}[5m]) >= 1',
        for: '15m',
        labels: { severity: 'warning' },
        annotations: {
          summary: 'Container {{ $labels.container }} of pod {{ $labels.namespace }}/{{ $labels.pod }} is crash looping',
          description: 'It has been waiting in CrashLoopBackOff for 15 minutes: read its previous log (kubectl logs --previous).',
        },
      },
      {
        alert: 'KubeDeploymentReplicasMismatch',
        expr: 'kube_deployment_spec_replicas > kube_deployment_status_replicas_available',
        for: '15m',
        labels: { severity: 'warning' },
        annotations: {
          summary: 'Deployment {{ $labels.namespace }}/{{ $labels.deployment }} has fewer available replicas than it asks for',
          description: 'It has had fewer available replicas than its spec for 15 minutes: pods are pending, failing their readiness probe or crashing.',
        },
      },
    ],
  };
}
