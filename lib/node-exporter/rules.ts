// node-exporter's alerts, which it brings to the app's Prometheus (addMonitoring); every alert has a
// `promtool test rules` test under test/prometheus/. After kube-prometheus's node mixin.
import type { RuleGroup } from '../prometheus/rules';

/** A node's filesystem or memory running out. */
export function nodeExporterRuleGroup(): RuleGroup {
  return {
    name: 'node-exporter',
    rules: [
      {
        alert: 'NodeFilesystemAlmostFull',
        expr: 'node_filesystem_avail_bytes{fstype!="", mountpoint!=""} / node_filesystem_size_bytes{fstype!="", mountpoint!=""} < 0.1 and node_filesystem_readonly{fstype!="", mountpoint!=""} == 0',
        for: '30m',
        labels: { severity: 'warning' },
        annotations: {
          summary: 'Filesystem {{ $labels.mountpoint }} of node {{ $labels.instance }} has less than 10% space left',
          description: 'Only {{ $value | humanizePercentage }} of {{ $labels.device }} is free: the kubelet evicts pods when it fills (images, logs, emptyDirs).',
        },
      },
      {
        alert: 'NodeMemoryAlmostFull',
        expr: 'node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes < 0.05',
        for: '15m',
        labels: { severity: 'warning' },
        annotations: {
          summary: 'Node {{ $labels.instance }} has less than 5% of its memory available',
          description: 'Only {{ $value | humanizePercentage }} of its memory is available: the kernel OOM killer and the kubelet\'s evictions come next.',
        },
      },
    ],
  };
}
