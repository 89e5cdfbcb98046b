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

/** Redis through its exporter sidecar: down, and persistence (RDB, AOF) that has stopped working. */
export function redisRuleGroup(): RuleGroup {
  return {
    name: 'redis',
    rules: [
      {
        alert: 'RedisDown',
        expr: 'redis_up == 0',
        for: '1m',
        labels: { severity: 'critical' },
        annotations: {
          summary: 'Redis {{ $labels.namespace }}/{{ $labels.pod }} is down',
          description: 'The exporter cannot reach Redis: the router loses its state store.',
        },
      },
      {
        alert: 'RedisRdbBgsaveFailed',
        expr: 'redis_rdb_last_bgsave_status == 0',
        for: '1m',
        labels: { severity: 'critical' },
        annotations: {
          summary: 'Redis {{ $labels.namespace }}/{{ $labels.pod }} failed its last RDB snapshot',
          description: 'The last BGSAVE failed (disk full, fork failure?): with stop-writes-on-bgsave-error Redis refuses writes.',
        },
      },
      {
        alert: 'RedisAofWriteFailed',
        expr: 'redis_aof_last_write_status == 0 and redis_aof_enabled == 1',
        for: '1m',
        labels: { severity: 'critical' },
        annotations: {
          summary: 'Redis {{ $labels.namespace }}/{{ $labels.pod }} cannot write its append-only file',
          description: 'The last AOF write failed: writes since then are not durable.',
        },
      },
      {
        alert: 'RedisNoRecentSave',
        expr: '(time() - redis_rdb_last_save_timestamp_seconds > 3600) and redis_rdb_changes_since_last_save > 0',
        for: '15m',
        labels: { severity: 'warning' },
        annotations: {
          summary: 'Redis {{ $labels.namespace }}/{{ $labels.pod }} has not saved a snapshot for over an hour',
          description: 'Its last RDB snapshot is {{ $value | humanizeDuration }} old and changes are waiting to be saved: check the save rules and the Redis log.',
        },
      },
      {
        alert: 'RedisMemoryNearMax',
        expr: 'redis_memory_used_bytes / redis_memory_max_bytes > 0.9 and redis_memory_max_bytes > 0',
        for: '5m',
        labels: { severity: 'warning' },
        annotations: {
          summary: 'Redis {{ $labels.namespace }}/{{ $labels.pod }} uses over 90% of maxmemory',
          description: 'It uses {{ $value | humanizePercentage }} of maxmemory: next comes eviction or OOM errors on writes.',
        },
      },
    ],
  };
}

/** The groups a Prometheus ships unless `defaultRules: false`. */
export function defaultRuleGroups(): RuleGroup[] {
  return [platformRuleGroup(), routerRuleGroup(), redisRuleGroup()];
}
