// The router's alerts, which it brings to the app's Prometheus (addMonitoring); every alert has a
// `promtool test rules` test under test/prometheus/.
import type { RuleGroup } from '../prometheus/rules';

/**
 * The NGINX router's decisions (router_* metrics of the contract): errors as a share of all
 * decisions, and the p99 decision latency NGINX waits on before every proxied request.
 */
export function routerRuleGroup(): RuleGroup {
  return {
    name: 'router',
    rules: [
      {
        record: 'namespace:router_decision_errors:ratio_rate5m',
        // `or ... * 0`: a router without decision series yet (an older or own image) failing
        // every decision still reads 1, not nothing.
        expr: 'sum by (namespace) (rate(router_decision_errors_total[5m])) / (sum by (namespace) (rate(router_decision_errors_total[5m])) + (sum by (namespace) (rate(router_decisions_total[5m])) or sum by (namespace) (rate(router_decision_errors_total[5m])) * 0))',
      },
      {
        record: 'namespace:router_decision_duration_seconds:p99_rate5m',
        expr: 'histogram_quantile(0.99, sum by (namespace, le) (rate(router_decision_duration_seconds_bucket[5m])))',
      },
      {
        alert: 'RouterDecisionErrorsHigh',
        expr: 'namespace:router_decision_errors:ratio_rate5m > 0.05',
        for: '5m',
        labels: { severity: 'critical' },
        annotations: {
          summary: 'Router in {{ $labels.namespace }} fails over 5% of its decisions',
          description: '{{ $value | humanizePercentage }} of routing decisions failed over 5 minutes; NGINX answers those requests with an error. See router_decision_errors_total by reason.',
        },
      },
      {
        alert: 'RouterDecisionLatencyHigh',
        expr: 'namespace:router_decision_duration_seconds:p99_rate5m > 0.1',
        for: '10m',
        labels: { severity: 'warning' },
        annotations: {
          summary: 'Router in {{ $labels.namespace }} takes over 100 ms for 1% of decisions',
          description: 'p99 decision latency is {{ $value | humanizeDuration }}: every proxied request waits for it.',
        },
      },
    ],
  };
}
