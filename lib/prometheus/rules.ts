// A typed model of Prometheus rule files
// (https://prometheus.io/docs/prometheus/3.16/configuration/recording_rules/), field names as in the
// file, and the rule groups this stack ships. Every shipped alert has a `promtool test rules` test
// under test/prometheus/ that fires it and one that keeps it quiet.

/** An alerting rule: fires while `expr` returns series, after `for`. */
export interface AlertingRule {
  /** Alert name, CamelCase by convention (`TargetDown`). */
  readonly alert: string;
  /** PromQL; each returned series is one alert. */
  readonly expr: string;
  /** How long `expr` must hold before the alert fires (pending until then). */
  readonly for?: string;
  /** How long the alert keeps firing after `expr` stops returning it. */
  readonly keep_firing_for?: string;
  /** Labels added to the alert: `severity` routes it in Alertmanager. */
  readonly labels?: Readonly<Record<string, string>>;
  /** `summary` and `description` for people on call; may use `{{ $labels.x }}` and `{{ $value }}`. */
  readonly annotations?: Readonly<Record<string, string>>;
}

/** A recording rule: stores the result of `expr` as the series `record`. */
export interface RecordingRule {
  /** Metric name of the result, `level:metric:operations` by convention. */
  readonly record: string;
  /** PromQL to evaluate. */
  readonly expr: string;
  /** Labels added to the recorded series. */
  readonly labels?: Readonly<Record<string, string>>;
}

/** One rule of a group. */
export type PrometheusRuleDefinition = AlertingRule | RecordingRule;

/** Rules evaluated together, in order, at one interval. Each group is rendered to its own rule file. */
export interface RuleGroup {
  /** Group name, unique per Prometheus; also the rule file's name (`<name>.rules.yml`). */
  readonly name: string;
  /** Overrides the global evaluation interval for this group. */
  readonly interval?: string;
  /** The rules, evaluated in order: a recording rule is visible to the rules after it. */
  readonly rules: readonly PrometheusRuleDefinition[];
}

export { routerRuleGroup } from '../router/rules';
export { redisRuleGroup } from '../redis/rules';
import { routerRuleGroup } from '../router/rules';
import { redisRuleGroup } from '../redis/rules';

/** True for alerting rules. */
export function isAlertingRule(rule: PrometheusRuleDefinition): rule is AlertingRule {
  return 'alert' in rule;
}

/**
 * Prometheus' own health and the pods' CPU: scrape targets down, a config reload that failed,
 * rules failing to evaluate, and containers running close to their CPU limit (cAdvisor, as the seed
 * measured CPU; no kube-state-metrics needed).
 */
export function platformRuleGroup(): RuleGroup {
  return {
    name: 'platform',
    rules: [
      {
        record: 'namespace_pod_container:container_cpu_usage_seconds:rate5m',
        expr: 'sum by (namespace, pod, container) (rate(container_cpu_usage_seconds_total{container!="", container!="POD"}[5m]))',
      },
      {
        record: 'namespace_pod_container:container_cpu_limit_cores:max',
        expr: 'max by (namespace, pod, container) (container_spec_cpu_quota{container!="", container!="POD"} / container_spec_cpu_period{container!="", container!="POD"})',
      },
      {
        alert: 'TargetDown',
        expr: 'up == 0',
        for: '5m',
        labels: { severity: 'warning' },
        annotations: {
          // A pod's target is its IP:port, which says nothing on call and changes at every restart: name the pod.
          summary: 'Scrape target {{ $labels.instance }}{{ with $labels.pod }} (pod {{ $labels.namespace }}/{{ . }}){{ end }} of job {{ $labels.job }} is down',
          description: 'Prometheus has failed to scrape {{ $labels.instance }} (job {{ $labels.job }}) for 5 minutes: its metrics and the alerts built on them are missing.',
        },
      },
      {
        alert: 'PrometheusConfigReloadFailed',
        expr: 'prometheus_config_last_reload_successful == 0',
        for: '5m',
        labels: { severity: 'warning' },
        annotations: {
          summary: 'Prometheus {{ $labels.instance }} failed to reload its configuration',
          description: 'The last configuration reload failed: Prometheus runs on its previous configuration. Check its log and `promtool check config`.',
        },
      },
      {
        alert: 'PrometheusRuleEvaluationFailures',
        expr: 'increase(prometheus_rule_evaluation_failures_total[5m]) > 0',
        for: '5m',
        labels: { severity: 'warning' },
        annotations: {
          // rule_group is `<file>;<group>`: the group's name, then its file.
          summary: 'Prometheus {{ $labels.instance }} fails to evaluate rules of group {{ reReplaceAll "^.*;" "" $labels.rule_group }} ({{ reReplaceAll ";[^;]*$" "" $labels.rule_group }})',
          description: '{{ $value | humanize }} rule evaluations failed in the last 5 minutes: the alerts of that group may never fire.',
        },
      },
      {
        alert: 'PodCpuNearLimit',
        expr: 'namespace_pod_container:container_cpu_usage_seconds:rate5m / on (namespace, pod, container) namespace_pod_container:container_cpu_limit_cores:max > 0.9',
        for: '15m',
        labels: { severity: 'warning' },
        annotations: {
          summary: 'Container {{ $labels.container }} of pod {{ $labels.namespace }}/{{ $labels.pod }} uses over 90% of its CPU limit',
          description: 'It has used {{ $value | humanizePercentage }} of its CPU limit for 15 minutes and is likely being throttled: raise the limit or find the hot path (pprof).',
        },
      },
    ],
  };
}

/**
 * The groups of the systems this package ships that predate their constructs' own: Prometheus's
 * `platform`, the router's and Redis's. Each construct brings its own now (`addMonitoring`).
 */
export function defaultRuleGroups(): RuleGroup[] {
  return [platformRuleGroup(), routerRuleGroup(), redisRuleGroup()];
}
