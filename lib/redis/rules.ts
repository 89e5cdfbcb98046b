// The Redis construct's alerts, which it brings to the app's Prometheus (addMonitoring); every alert has a
// `promtool test rules` test under test/prometheus/.
import type { RuleGroup } from '../prometheus/rules';

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
