// NGINX's alerts, which it brings to the app's Prometheus (addMonitoring); every alert has a
// `promtool test rules` test under test/prometheus/.
import type { RuleGroup } from '../prometheus/rules';

/** NGINX through its exporter sidecar (nginx-prometheus-exporter): the exporter cannot read NGINX's status. */
export function nginxRuleGroup(): RuleGroup {
  return {
    name: 'nginx',
    rules: [
      {
        alert: 'NginxDown',
        expr: 'nginx_up == 0',
        for: '2m',
        labels: { severity: 'critical' },
        annotations: {
          summary: 'NGINX {{ $labels.namespace }}/{{ $labels.pod }} is down',
          description: 'Its exporter has not reached NGINX\'s status page for 2 minutes: the pod serves no routed traffic, or serves it unseen.',
        },
      },
    ],
  };
}
