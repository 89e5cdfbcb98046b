// The live loop's world: a chart's pods as real processes on loopback addresses of their own
// (./pods.ts), each run from the chart's synthesized config and container args: Redis (redis.conf,
// its users as the init container makes them) with redis_exporter, the router, NGINX with
// nginx-prometheus-exporter, the Alertmanager, and Prometheus scraping them through the chart's own
// relabel rules (file-based targets carrying the meta labels Kubernetes discovery would attach).
import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import { enginePath, requireEngine, run, startProcess, tempDir, waitForPort } from '../support/engines';
import { LocalPrometheusOptions, RunningPrometheus, TargetGroup, startPrometheus } from '../support/prometheus-server';
import { K8sObject, configMapFile } from '../support/synth';
import { PreparedRedisPod, preparePod } from '../redis/server';
import { applyFolder } from '../cluster/apply';
import { ControlPlane, startControlPlane } from '../cluster/control-plane';
import { Nginx } from '../../lib/nginx';
import { RunningNginx, TestServer, localModel, sharedTempDir, startBackend, startNginx, startRouter } from '../nginx/stack';
import { RunningAlertmanager, WebhookReceiver, startAlertmanager } from './alerting';
import { LocalPod, container, localPod, podArgs, podTargets } from './pods';

/** The node every pod of the test runs on (no kubelet: the node and cAdvisor jobs get no target). */
export const NODE_NAME = 'node-a';

/** Passwords of the Redis users, as the platform team's Secret would hold them. */
export const REDIS_PASSWORDS: Readonly<Record<string, string>> = { admin: 'live-admin-pw', exporter: 'live-exporter-pw', router: 'live-router-pw' };

type Proc = ReturnType<typeof startProcess>;

/** A process of a pod: restartable, so a scenario can take it down and bring it back. */
export interface PodProcess {
  readonly pod: LocalPod;
  /** Starts it (again). */
  start(): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Sends a signal without waiting (SIGSTOP, SIGCONT). */
  signal(signal: NodeJS.Signals): void;
  output(): string;
}

/** A process started from `args`, ready once `address` accepts connections. */
function podProcess(pod: LocalPod, binary: string, args: () => string[], address: () => string): PodProcess {
  let proc: Proc | undefined;
  return {
    pod,
    start: async () => {
      proc = startProcess(binary, args());
      const [host, port] = address().split(':');
      try {
        await waitForPort(Number(port), 15_000, host);
      } catch (error) {
        await proc.stop('SIGKILL');
        throw new Error(`${(error as Error).message}\n${proc.output()}`);
      }
    },
    stop: async (signal) => { await proc?.stop(signal); },
    signal: (signal) => { proc?.child.kill(signal); },
    output: () => proc?.output() ?? '',
  };
}

export interface LiveStack {
  readonly objects: readonly K8sObject[];
  readonly namespace: string;
  readonly prometheus: RunningPrometheus;
  readonly alertmanager: RunningAlertmanager;
  readonly webhook: WebhookReceiver;
  readonly redis: PodProcess & { readonly files: PreparedRedisPod; readonly dataDir: string };
  readonly redisExporter: PodProcess;
  readonly router: PodProcess;
  readonly nginx: RunningNginx;
  /** host:port NGINX serves on. */
  readonly nginxAddress: string;
  readonly nginxExporter: PodProcess;
  readonly nodeExporter: PodProcess;
  readonly goService: PodProcess;
  readonly kubeStateMetrics: PodProcess;
  /** The control plane the chart is applied to (no scheduler, no kubelet: its pods stay Pending). */
  readonly cluster: ControlPlane;
  /** Runs redis-cli against the chart's Redis as `user`. */
  redisCli(user: string, ...args: string[]): string;
  /** Why each scrape job of prometheus.yml has the targets it has here. */
  readonly jobs: Readonly<Record<string, string>>;
  stop(): Promise<void>;
}

export interface LiveStackOptions {
  /** The Prometheus ConfigMap's name, the Nginx construct of the chart. */
  readonly prefix: string;
  readonly nginx: Nginx;
  /** The test's copy of the rules (shorter `for`). */
  readonly rules?: LocalPrometheusOptions['rules'];
  /** Construct id of the Deployment monitorGoService watches, run by the go-service engine. */
  readonly goService: string;
  /** Size of the tmpfs Redis's data folder is mounted on (the volume's size in the pod). */
  readonly redisVolumeBytes: number;
}

/** The host:port of a `--flag=host:port` among args. */
function listenAddress(args: readonly string[], flag: string): string {
  const arg = args.find((a) => a.startsWith(flag));
  if (!arg) throw new Error(`no ${flag} in ${args.join(' ')}`);
  return arg.slice(flag.length);
}

/**
 * A kubeconfig for the pod's ServiceAccount (a token the API server issues for it), in place of the
 * in-cluster config the pod would read from its mounted token.
 */
function serviceAccountKubeconfig(cluster: ControlPlane, pod: LocalPod, file: string): string {
  const serviceAccount = pod.workload.spec.template.spec.serviceAccountName;
  const token = cluster.kubectl(['create', 'token', serviceAccount, '-n', pod.workload.metadata.namespace!, '--duration=1h']).trim();
  fs.writeFileSync(file, JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'test', cluster: { server: cluster.server, 'certificate-authority': cluster.caFile } }],
    users: [{ name: serviceAccount, user: { token } }],
    contexts: [{ name: 'test', context: { cluster: 'test', user: serviceAccount } }],
    'current-context': 'test',
  }));
  return file;
}

/** Starts every pod; stops what it started if one fails. */
export async function startLiveStack(objects: readonly K8sObject[], webhook: WebhookReceiver, options: LiveStackOptions): Promise<LiveStack> {
  const { prefix } = options;
  const dir = tempDir('observability-live');
  const stops: (() => Promise<void>)[] = [async () => fs.rmSync(dir, { recursive: true, force: true })];
  const stop = async () => {
    for (const s of stops.splice(0).reverse()) await s().catch(() => undefined);
  };
  try {
    const namespace = objects.find((o) => o.kind === 'Namespace')!.metadata.name;
    // The control plane starts (tens of seconds) while the pods do.
    const clusterStarting = startControlPlane();
    stops.push(async () => (await clusterStarting).stop());

    // Redis: its data folder a volume of its own (a tmpfs of the claim's size), its users made by the init container's script.
    const redisPod = localPod(objects, 'StatefulSet', `${prefix}-redis`);
    const files = preparePod(objects, `${prefix}-redis`, path.join(dir, 'redis'), REDIS_PASSWORDS);
    const dataDir = path.join(dir, 'redis-volume');
    fs.mkdirSync(dataDir);
    run('mount', ['-t', 'tmpfs', '-o', `size=${options.redisVolumeBytes}`, 'tmpfs', dataDir]);
    stops.push(async () => { run('umount', ['-l', dataDir]); });
    const redisServer = requireEngine('redis-server', 'redis-server');
    const redisArgs = podArgs(redisPod, 'redis').slice(1).map(files.local).map((a) => (a === '/data' ? dataDir : a));
    const redis = { ...podProcess(redisPod, redisServer, () => [...redisArgs, '--bind', redisPod.ip, '--aclfile', path.join(files.auth, 'users.acl')], () => `${redisPod.ip}:6379`), files, dataDir };
    await redis.start();
    stops.push(() => redis.stop('SIGKILL'));
    const redisCli = (user: string, ...args: string[]) => run(requireEngine('redis-cli', 'redis-tools'), ['-h', redisPod.ip, '-p', '6379', '--user', user, '--pass', REDIS_PASSWORDS[user], '--no-auth-warning', ...args]).trim();

    // Its exporter, logging in as the chart's exporter user (the init container's exporter.json, keyed by the pod's address).
    const exporterJson = files.local('/run/redis-auth/exporter.json');
    fs.writeFileSync(exporterJson, fs.readFileSync(exporterJson, 'utf8').replaceAll('127.0.0.1', redisPod.ip));
    const redisExporter = podProcess(redisPod, enginePath('redis_exporter'), () => podArgs(redisPod, 'metrics').map(files.local), () => `${redisPod.ip}:9121`);
    await redisExporter.start();
    stops.push(() => redisExporter.stop('SIGKILL'));

    // The router: the chart's rules.json, Redis's Service name being the Redis pod's address.
    const routerPod = localPod(objects, 'Deployment', `${prefix}-router`);
    const rules = JSON.parse(configMapFile(objects, `${prefix}-router-config`, 'rules.json'));
    rules.redis = { ...rules.redis, host: redisPod.ip, passwordFile: path.join(files.secrets, rules.redis.username, 'password') };
    const routerDir = sharedTempDir('observability-router');
    stops.push(async () => fs.rmSync(routerDir, { recursive: true, force: true }));
    const routerPort = Number(podArgs(routerPod, 'router')[podArgs(routerPod, 'router').indexOf('--port') + 1]);
    let routerStop: (() => Promise<void>) | undefined;
    const router: PodProcess = {
      pod: routerPod,
      start: async () => { routerStop = (await startRouter(JSON.stringify(rules), routerDir, { host: routerPod.ip, port: routerPort })).stop; },
      stop: async () => { await routerStop?.(); },
      signal: () => { throw new Error('not used'); },
      output: () => '',
    };
    await router.start();
    stops.push(() => router.stop());

    // NGINX: the construct's model on the pod's address, the router's Service its pod, the backends local servers.
    const nginxPod = localPod(objects, 'Deployment', `${prefix}-nginx`);
    const backends: Record<string, TestServer> = {};
    for (const b of options.nginx.confModel.backends) {
      backends[b.name] = await startBackend(b.name);
      stops.push(() => backends[b.name].close());
    }
    const nginxDir = sharedTempDir('observability-nginx');
    stops.push(async () => fs.rmSync(nginxDir, { recursive: true, force: true }));
    const model = options.nginx.confModel;
    const onPod = (listen: string) => `${nginxPod.ip}:${listen.split(':').pop()}`;
    const local = localModel(model, nginxDir, { listen: 0, health: 0, status: 0 }, {
      router: `${routerPod.ip}:${routerPort}`,
      backends: Object.fromEntries(Object.entries(backends).map(([name, server]) => [name, `127.0.0.1:${server.port}`])),
    });
    const nginx = await startNginx({ ...local, listen: onPod(model.listen), healthListen: onPod(model.healthListen), statusListen: onPod(model.statusListen) }, nginxDir);
    stops.push(() => nginx.stop());
    const nginxExporterArgs = podArgs(nginxPod, 'exporter');
    const nginxExporter = podProcess(nginxPod, enginePath('nginx-prometheus-exporter'), () => nginxExporterArgs, () => listenAddress(nginxExporterArgs, '--web.listen-address='));
    await nginxExporter.start();
    stops.push(() => nginxExporter.stop('SIGKILL'));

    // node_exporter, on this machine's /proc, /sys and / (the DaemonSet's hostPath volumes).
    const nodeExporterPod = localPod(objects, 'DaemonSet', `${prefix}-node-exporter`);
    const nodeExporterArgs = podArgs(nodeExporterPod, 'node-exporter');
    const nodeExporter = podProcess(nodeExporterPod, enginePath('node_exporter'), () => nodeExporterArgs, () => listenAddress(nodeExporterArgs, '--web.listen-address='));
    await nodeExporter.start();
    stops.push(() => nodeExporter.stop('SIGKILL'));

    // The Go service monitorGoService watches: metrics on the annotated port, pprof on the pod's loopback only.
    const goPod = localPod(objects, 'Deployment', `${prefix}-${options.goService}`);
    const goPort = Number(goPod.workload.spec.template.metadata.annotations['prometheus.io/port']);
    const pprofPort = container(goPod, goPod.workload.spec.template.spec.containers[0].name).ports!.find((p) => p.name === 'pprof')!.containerPort;
    const goService = podProcess(goPod, enginePath('go-service'), () => [`-listen=${goPod.ip}:${goPort}`, `-pprof-listen=${goPod.ip}:${pprofPort}`], () => `${goPod.ip}:${goPort}`);
    await goService.start();
    stops.push(() => goService.stop('SIGKILL'));

    // The Alertmanager, sending to the webhook the chart's receiver names.
    const alertmanagerPod = localPod(objects, 'StatefulSet', `${prefix}-alertmanager`);
    const alertmanagerDir = path.join(dir, 'alertmanager');
    fs.mkdirSync(alertmanagerDir);
    const alertmanager = await startAlertmanager(objects, alertmanagerPod, alertmanagerDir);
    stops.push(() => alertmanager.stop());

    // kube-state-metrics, on the control plane the chart is applied to, as its ServiceAccount (its RBAC, its token).
    const cluster = await clusterStarting;
    const manifests = path.join(dir, 'manifests');
    fs.mkdirSync(manifests);
    objects.forEach((o, i) => fs.writeFileSync(path.join(manifests, `${String(i).padStart(3, '0')}-${o.kind}-${o.metadata.name}.yaml`), YAML.stringify(o)));
    await applyFolder(cluster, manifests);
    const ksmPod = localPod(objects, 'Deployment', `${prefix}-kube-state-metrics`);
    const ksmKubeconfig = serviceAccountKubeconfig(cluster, ksmPod, path.join(dir, 'kube-state-metrics.kubeconfig'));
    const ksmArgs = [...podArgs(ksmPod, 'kube-state-metrics'), `--host=${ksmPod.ip}`, `--telemetry-host=${ksmPod.ip}`, `--kubeconfig=${ksmKubeconfig}`];
    const ksmPort = listenAddress(ksmArgs, '--port=');
    const kubeStateMetrics = podProcess(ksmPod, enginePath('kube-state-metrics'), () => ksmArgs, () => `${ksmPod.ip}:${ksmPort}`);
    await kubeStateMetrics.start();
    stops.push(() => kubeStateMetrics.stop('SIGKILL'));

    // Prometheus, last: every target is up from its first scrape.
    const prometheusPod = localPod(objects, 'Deployment', `${prefix}-prometheus`);
    const pods = [redisPod, routerPod, nginxPod, alertmanagerPod, goPod];
    const targets: Record<string, TargetGroup[]> = { 'kubernetes-pods': pods.flatMap((p) => podTargets(p, NODE_NAME)), 'node-exporter': podTargets(nodeExporterPod, NODE_NAME) };
    const prometheus = await startPrometheus(objects, `${prefix}-prometheus`, targets, {
      host: prometheusPod.ip,
      rules: options.rules,
      addresses: {
        'localhost:9090': `${prometheusPod.ip}:9090`,
        [`${prefix}-alertmanager-0.${prefix}-alertmanager-cluster.${namespace}.svc:9093`]: alertmanager.address,
        [`${prefix}-kube-state-metrics.${namespace}.svc:8080`]: `${ksmPod.ip}:${ksmPort}`,
      },
    });
    stops.push(() => prometheus.stop());

    return {
      objects, namespace, prometheus, alertmanager, webhook, redis, redisExporter, router, nginx, nginxExporter, nodeExporter, goService, kubeStateMetrics, cluster, redisCli,
      nginxAddress: onPod(model.listen),
      jobs: {
        'kubernetes-pods': `pods ${pods.map((p) => p.workload.metadata.name).join(', ')} (file_sd with pod discovery's meta labels)`,
        'node-exporter': `the ${nodeExporterPod.workload.metadata.name} pod on this machine`,
        'kubernetes-nodes': 'none: no kubelet runs here',
        'kubernetes-cadvisor': 'none: no kubelet runs here (cAdvisor is the kubelet\'s)',
        'kubernetes-apiservers': 'none: the API server of this test is not discovered (no EndpointSlice of a kubernetes Service on 127.0.0.1)',
        'kubernetes-service-endpoints': 'none: no Service of the chart is annotated for scraping',
        'kube-state-metrics': `the ${ksmPod.workload.metadata.name} pod, on the control plane the chart is applied to`,
        prometheus: 'itself',
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
