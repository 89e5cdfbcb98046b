// Real faults on the live stack, each with the alerts it must fire. Scenarios of one lane run in
// order (they share a process); lanes run in parallel.
import * as fs from 'fs';
import * as path from 'path';
import { podIp } from './pods';
import { LiveStack, NODE_NAME } from './stack';

/** An alert a scenario fires: its name and the labels that say where. */
export interface ExpectedAlert {
  readonly alertname: string;
  readonly labels?: Readonly<Record<string, string>>;
  /** The summary people on call read, as rendered. */
  readonly summary?: string;
}

export interface Scenario {
  readonly name: string;
  /** The fault is the test's setup itself: its alerts may have arrived before the scenario's turn. */
  readonly atSetup?: boolean;
  readonly fires: readonly ExpectedAlert[];
  /** Causes the fault. */
  fault(): Promise<void>;
  /** What else holds while the fault lasts, checked once its alerts arrived. */
  check?(): Promise<void>;
  /** Undoes it, once its alerts arrived (or did not). */
  recover?(): Promise<void>;
}

/** Fills the filesystem of `dir` with one file, to the last byte; returns the file. */
function fillFilesystem(dir: string): string {
  const file = path.join(dir, 'filler');
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.alloc(1024 * 1024);
  try {
    for (;;) {
      try {
        fs.writeSync(fd, chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
        // The last partial chunk: byte by byte is too slow, halves are enough.
        for (let size = chunk.length / 2; size >= 1; size /= 2) {
          try { fs.writeSync(fd, chunk, 0, size); } catch { /* full at this size */ }
        }
        return file;
      }
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** The scenarios, in lanes. */
export function podScenarios(stack: LiveStack, panelQuery: (dashboard: string, panel: string) => Promise<string>): Scenario[][] {
  const { namespace, prometheus } = stack;
  const redisPod = stack.redis.pod.name;
  const bigKeys = Array.from({ length: 29 }, (_, i) => `filler:${i}`);
  const redisLane: Scenario[] = [
    {
      name: 'a tenant written, no save rule due within the (shortened) hour',
      fires: [{ alertname: 'RedisNoRecentSave', labels: { namespace, pod: redisPod } }],
      fault: async () => { stack.redisCli('admin', 'SET', 'tenant:initech', 'echo-a'); },
    },
    {
      name: 'Redis stopped (SIGTERM) while NGINX sends tenant lookups: every lookup fails',
      fires: [{ alertname: 'RedisDown', labels: { namespace, pod: redisPod } }, { alertname: 'RouterDecisionErrorsHigh', labels: { namespace } }],
      fault: () => stack.redis.stop('SIGTERM'),
      // The Decision errors panel reads 100% (every decision of its last 4 s failed).
      check: async () => {
        const errors = await panelQuery('NGINX router', 'Decision errors');
        await prometheus.eventually(async () => ((await prometheus.query(errors))[0]?.value[1] === '1' ? true : undefined));
      },
      // Until RedisDown is over, so the next scenario's RedisDown is a new alert.
      recover: async () => {
        await stack.redis.start();
        await prometheus.eventually(async () => ((await prometheus.api('/api/v1/alerts')).alerts.some((a: { labels: Record<string, string> }) => a.labels.alertname === 'RedisDown') ? undefined : true));
      },
    },
    {
      name: "Redis hung (SIGSTOP): lookups wait out the router's 100 ms Redis timeout, the exporter its own",
      // The exporter gives up on the hung Redis within its timeout (under the scrape timeout): redis_up 0.
      fires: [{ alertname: 'RouterDecisionLatencyHigh', labels: { namespace } }, { alertname: 'RedisDown', labels: { namespace, pod: redisPod } }],
      fault: async () => stack.redis.signal('SIGSTOP'),
      recover: async () => stack.redis.signal('SIGCONT'),
    },
    {
      name: 'Redis filled to 95% of maxmemory (29 values of 10 MiB)',
      fires: [{ alertname: 'RedisMemoryNearMax', labels: { namespace, pod: redisPod } }],
      // Just under 10 MiB each, so each fits jemalloc's 10 MiB size class.
      fault: async () => { for (const key of bigKeys) stack.redisCli('admin', 'SETRANGE', key, String(10 * 1024 * 1024 - 64), 'x'); },
      recover: async () => { stack.redisCli('admin', 'UNLINK', ...bigKeys); },
    },
    {
      name: "Redis's volume full (another writer took the space): a write, then a BGSAVE",
      fires: [
        { alertname: 'RedisAofWriteFailed', labels: { namespace, pod: redisPod } },
        { alertname: 'RedisRdbBgsaveFailed', labels: { namespace, pod: redisPod } },
        // node_exporter sees the volume (a tmpfs here) on this machine
        { alertname: 'NodeFilesystemAlmostFull', labels: { instance: NODE_NAME, mountpoint: stack.redis.dataDir } },
      ],
      fault: async () => {
        filler = fillFilesystem(stack.redis.dataDir);
        // 100 kB: more than the free part of the AOF's last page, which a full tmpfs still takes.
        stack.redisCli('admin', 'SET', 'tenant:hooli', 'x'.repeat(100_000));
        stack.redisCli('admin', 'BGSAVE');
      },
      recover: async () => { fs.rmSync(filler!, { force: true }); },
    },
    {
      // Last: the scenarios before it need NGINX's traffic.
      name: 'NGINX stopped (SIGTERM): its exporter cannot read stub_status',
      fires: [{ alertname: 'NginxDown', labels: { namespace, pod: stack.nginxExporter.pod.name } }],
      fault: () => stack.nginx.stop(),
    },
  ];
  let filler: string | undefined;

  const ruleFile = (name: string) => path.join(prometheus.root, `${name}.rules.yml`);
  const prometheusLane: Scenario[] = [
    {
      name: "a team's rule joins up with up on namespace (many-to-many): its evaluation fails",
      fires: [{ alertname: 'PrometheusRuleEvaluationFailures', summary: `Prometheus ${prometheus.address} fails to evaluate rules of group team (${ruleFile('team')})` }],
      fault: async () => {
        fs.writeFileSync(ruleFile('team'), 'groups:\n  - name: team\n    rules:\n      - record: namespace:up:joined\n        expr: up * on (namespace) up\n');
        prometheus.reload();
      },
      recover: async () => { fs.rmSync(ruleFile('team')); prometheus.reload(); },
    },
    {
      name: 'a rule file that does not parse, then a reload (SIGHUP)',
      fires: [{ alertname: 'PrometheusConfigReloadFailed' }],
      fault: async () => {
        fs.writeFileSync(ruleFile('broken'), 'groups:\n  - name: broken\n    rules:\n      - record: broken\n        expr: sum(\n');
        prometheus.reload();
      },
      recover: async () => { fs.rmSync(ruleFile('broken')); prometheus.reload(); },
    },
  ];

  const alertmanagerLane: Scenario[] = [
    {
      name: 'an alertmanager.yml that does not parse, then a reload (SIGHUP)',
      fires: [{ alertname: 'AlertmanagerConfigReloadFailed', labels: { namespace, pod: stack.alertmanager.pod.name } }],
      fault: async () => {
        synthesized = fs.readFileSync(stack.alertmanager.configFile, 'utf8');
        fs.writeFileSync(stack.alertmanager.configFile, 'route: [\n');
        stack.alertmanager.reload();
      },
      recover: async () => { fs.writeFileSync(stack.alertmanager.configFile, synthesized!); stack.alertmanager.reload(); },
    },
  ];
  let synthesized: string | undefined;

  const targetLane: Scenario[] = [
    {
      // Nodes are scraped through the API server's proxy, so every node has the same __address__.
      name: "a node whose kubelet cannot be reached (node discovery's target, nothing listening); its alert also routed to a receiver whose endpoint is down",
      fires: [
        { alertname: 'TargetDown', labels: { job: 'kubernetes-nodes', instance: NODE_NAME }, summary: `Scrape target ${NODE_NAME} of job kubernetes-nodes is down` },
        { alertname: 'AlertmanagerNotificationsFailing', labels: { namespace, pod: stack.alertmanager.pod.name, integration: 'webhook' } },
      ],
      fault: async () => {
        fs.writeFileSync(path.join(prometheus.root, 'kubernetes-nodes.targets.json'), JSON.stringify([{ targets: [`${podIp()}:10250`], labels: { __meta_kubernetes_node_name: NODE_NAME, __meta_kubernetes_node_address_InternalIP: '10.255.0.1' } }]));
      },
      recover: async () => fs.writeFileSync(path.join(prometheus.root, 'kubernetes-nodes.targets.json'), '[]'),
    },
    {
      name: 'the NGINX pod\'s exporter killed (SIGKILL)',
      fires: [{
        alertname: 'TargetDown',
        labels: { namespace, pod: stack.nginxExporter.pod.name },
        summary: `Scrape target ${stack.nginxExporter.pod.ip}:9113 (pod ${namespace}/${stack.nginxExporter.pod.name}) of job kubernetes-pods is down`,
      }],
      fault: () => stack.nginxExporter.stop('SIGKILL'),
      recover: () => stack.nginxExporter.start(),
    },
  ];
  const clusterLane: Scenario[] = [
    {
      name: 'the chart applied to a control plane without nodes (no scheduler, no kubelet): no Deployment has an available pod',
      atSetup: true,
      fires: [{ alertname: 'KubeDeploymentReplicasMismatch', labels: { namespace, deployment: stack.router.pod.workload.metadata.name } }],
      fault: async () => undefined,
    },
  ];
  return [redisLane, prometheusLane, alertmanagerLane, targetLane, clusterLane];
}
