// Alertmanager's alerts, which it brings to the app's Prometheus (addMonitoring); every alert has a
// `promtool test rules` test under test/prometheus/. After kube-prometheus's alertmanager mixin.
import type { RuleGroup } from '../prometheus/rules';

/** Alerts that do not reach people: notifications failing per integration, a configuration that did not load. */
export function alertmanagerRuleGroup(): RuleGroup {
  return {
    name: 'alertmanager',
    rules: [
      {
        alert: 'AlertmanagerNotificationsFailing',
        expr: 'sum by (namespace, pod, integration) (rate(alertmanager_notifications_failed_total[5m])) / sum by (namespace, pod, integration) (rate(alertmanager_notifications_total[5m])) > 0.01',
        for: '5m',
        labels: { severity: 'critical' },
        annotations: {
          summary: 'Alertmanager {{ $labels.namespace }}/{{ $labels.pod }} fails to send {{ $labels.integration }} notifications',
          description: '{{ $value | humanizePercentage }} of its {{ $labels.integration }} notifications failed over 5 minutes: on-call may not hear of the alerts. Check the receiver\'s credentials and its log.',
        },
      },
      {
        alert: 'AlertmanagerConfigReloadFailed',
        expr: 'max_over_time(alertmanager_config_last_reload_successful[5m]) == 0',
        for: '10m',
        labels: { severity: 'warning' },
        annotations: {
          summary: 'Alertmanager {{ $labels.namespace }}/{{ $labels.pod }} failed to load its configuration',
          description: 'It runs on its previous configuration: routes and receivers changed since are not in effect. Check `amtool check-config` and its log.',
        },
      },
    ],
  };
}
