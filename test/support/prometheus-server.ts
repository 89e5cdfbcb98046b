// A real Prometheus (the image's version, `npm run engines`) on a chart's synthesized prometheus.yml
// and rule files, Kubernetes discovery made file-based so local processes can stand for pods and
// nodes: each target carries the meta labels Kubernetes discovery would attach, and the chart's own
// relabel rules turn them into the scraped series.
import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import { enginePath, eventually as poll, freePort, run, startProcess, tempDir, waitForPort } from './engines';
import { K8sObject, configMapFile } from './synth';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** A file_sd target group: addresses and the meta labels discovery would attach. */
export interface TargetGroup {
  readonly targets: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
}

export interface RunningPrometheus {
  /** host:port it listens on. */
  readonly address: string;
  /** The folder of its prometheus.yml and rule files (as the test rewrote them). */
  readonly root: string;
  /** The data of a Prometheus HTTP API GET (`/api/v1/...`). */
  api(pathAndQuery: string): Promise<Json>;
  /** The instant vector of `expr`, now. */
  query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  /** Polls `probe` until it returns something, or fails with the targets' state. */
  eventually<T>(probe: () => Promise<T | undefined>, timeoutMs?: number): Promise<T>;
  /** SIGHUP: Prometheus reloads prometheus.yml and the rule files, as the config-reloader sidecar asks it to. */
  reload(): void;
  stop(): Promise<void>;
}

/** How the test's copy differs from the synthesized files, beyond file_sd and the 1 s intervals. */
export interface LocalPrometheusOptions {
  /** host of the listen address (the port is the one the chart's args say, else a free one). */
  readonly host?: string;
  /** Replaces each in-cluster `host:port` of static_configs and alertmanagers (`localhost:9090` included): the local address, or none to leave the job without targets. */
  readonly addresses?: Readonly<Record<string, string | undefined>>;
  /** Rewrites each rule group of the rule files (the test's copy: shorter `for`, say). */
  readonly rules?: (group: Json) => Json;
}

/**
 * Runs the chart's Prometheus (ConfigMap `configMapName`): its prometheus.yml and rule files as
 * synthesized, but every kubernetes_sd_configs list made a file_sd_configs list with the targets of
 * `targets` (by job; none for the others), in-pod credential paths under a temp root, and scrape
 * and evaluation every second so a test takes seconds.
 */
export async function startPrometheus(objects: readonly K8sObject[], configMapName: string, targets: Readonly<Record<string, readonly TargetGroup[]>>, options: LocalPrometheusOptions = {}): Promise<RunningPrometheus> {
  const root = tempDir('prometheus-live');
  const configMap = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === configMapName);
  if (!configMap) throw new Error(`no ConfigMap ${configMapName}`);
  const config = YAML.parse(configMapFile(objects, configMapName, 'prometheus.yml'));
  for (const [key, text] of Object.entries<string>(configMap.data)) {
    if (key === 'prometheus.yml') continue;
    const rules = options.rules && /\.rules\.ya?ml$/.test(key) ? YAML.stringify({ groups: YAML.parse(text).groups.map(options.rules) }) : text;
    fs.writeFileSync(path.join(root, key), rules);
  }
  const local = (address: string): string[] => {
    if (!options.addresses || !(address in options.addresses)) return [address];
    const replaced = options.addresses[address];
    return replaced ? [replaced] : [];
  };
  config.rule_files = (config.rule_files ?? []).map((f: string) => path.join(root, path.basename(f)));
  config.global.scrape_interval = '1s';
  config.global.scrape_timeout = '1s';
  config.global.evaluation_interval = '1s';
  for (const job of config.scrape_configs) {
    if (job.authorization?.credentials_file) job.authorization.credentials_file = placeholder(root, job.authorization.credentials_file);
    if (job.tls_config?.ca_file) job.tls_config.ca_file = certificateAuthority(root, job.tls_config.ca_file);
    for (const group of job.static_configs ?? []) group.targets = group.targets.flatMap(local);
    if (!job.kubernetes_sd_configs) continue;
    const file = path.join(root, `${job.job_name}.targets.json`);
    fs.writeFileSync(file, JSON.stringify(targets[job.job_name] ?? []));
    delete job.kubernetes_sd_configs;
    job.file_sd_configs = [{ files: [file] }];
  }
  for (const alertmanagers of config.alerting?.alertmanagers ?? []) {
    for (const group of alertmanagers.static_configs ?? []) group.targets = group.targets.flatMap(local);
  }
  const configFile = path.join(root, 'prometheus.yml');
  fs.writeFileSync(configFile, YAML.stringify(config));

  const host = options.host ?? '127.0.0.1';
  const port = options.host ? 9090 : await freePort();
  const address = `${host}:${port}`;
  const server = startProcess(enginePath('prometheus'), [`--config.file=${configFile}`, `--storage.tsdb.path=${path.join(root, 'data')}`, `--web.listen-address=${address}`]);
  try {
    await waitForPort(port, 15_000, host);
    // The API answers 503 "Service Unavailable" until the TSDB is open (seconds on a loaded machine).
    await poll(async () => ((await fetch(`http://${address}/-/ready`).catch(() => undefined))?.status === 200 ? true : undefined), 30_000, () => `prometheus on ${address} not ready within 30000 ms`, 100);
  } catch (error) {
    await server.stop('SIGKILL');
    throw new Error(`${(error as Error).message}\n${server.output()}`);
  }

  const api = async (pathAndQuery: string): Promise<Json> => {
    const body = (await (await fetch(`http://${address}${pathAndQuery}`)).json()) as Json;
    if (body.status !== 'success') throw new Error(`${pathAndQuery}: ${body.error}`);
    return body.data;
  };
  const eventually = <T>(probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> =>
    poll(probe, timeoutMs, async () => `condition not met within ${timeoutMs} ms; targets:\n${JSON.stringify(await api('/api/v1/targets'), null, 1).slice(0, 4000)}`, 250);
  return {
    address,
    root,
    api,
    query: async (expr) => (await api(`/api/v1/query?query=${encodeURIComponent(expr)}`)).result,
    eventually,
    reload: () => { server.child.kill('SIGHUP'); },
    stop: async () => {
      await server.stop();
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

/** What Kubernetes would mount at an in-pod path, as a placeholder under root. */
function placeholder(root: string, inPodPath: string): string {
  const file = path.join(root, 'pod', inPodPath);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, 'placeholder\n');
  return file;
}

/** A CA certificate at an in-pod path under root (Prometheus refuses a job whose ca_file is not one). */
function certificateAuthority(root: string, inPodPath: string): string {
  const file = placeholder(root, inPodPath);
  run(enginePath('openssl'), ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=test-cluster-ca', '-days', '1', '-keyout', `${file}.key`, '-out', file]);
  return file;
}
