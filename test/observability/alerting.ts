// The end of the alert path: the chart's Alertmanager (the real server, `npm run engines`) on its
// synthesized alertmanager.yml, and a webhook receiver in the test that records what it is sent.
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import { enginePath, freePort, startProcess, waitForPort } from '../support/engines';
import { K8sObject, configMapFile } from '../support/synth';
import { LocalPod, podArgs } from './pods';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** One alert as a webhook notification carries it, with the receiver that got it. */
export interface Notified {
  readonly receiver: string;
  readonly status: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly at: number;
}

export interface WebhookReceiver {
  readonly url: string;
  /** Every alert of every notification so far, in arrival order. */
  readonly alerts: () => readonly Notified[];
  close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1 taking Alertmanager's webhook POSTs (version 4 payloads). */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: Notified[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const payload = JSON.parse(body);
      for (const alert of payload.alerts) received.push({ receiver: payload.receiver, status: alert.status, labels: alert.labels, annotations: alert.annotations, at: Date.now() });
      res.writeHead(200).end();
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}/alerts`,
    alerts: () => received,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

export interface RunningAlertmanager {
  readonly pod: LocalPod;
  readonly address: string;
  /** Its alertmanager.yml (as synthesized). */
  readonly configFile: string;
  /** SIGHUP: it reloads its config file. */
  reload(): void;
  output(): string;
  stop(): Promise<void>;
}

/**
 * The chart's Alertmanager pod: the container's args as synthesized, its config file and storage
 * folder under `dir`, listening on the pod's address.
 */
export async function startAlertmanager(objects: readonly K8sObject[], pod: LocalPod, dir: string): Promise<RunningAlertmanager> {
  const configMap = pod.workload.spec.template.spec.volumes.find((v: Json) => v.configMap && /config/.test(v.name))?.configMap.name;
  if (!configMap) throw new Error(`${pod.workload.metadata.name} mounts no config ConfigMap`);
  const configFile = path.join(dir, 'alertmanager.yml');
  fs.writeFileSync(configFile, configMapFile(objects, configMap, 'alertmanager.yml'));
  const args = podArgs(pod, 'alertmanager').map((arg) => {
    if (arg.startsWith('--config.file=')) return `--config.file=${configFile}`;
    if (arg.startsWith('--storage.path=')) return `--storage.path=${path.join(dir, 'data')}`;
    return arg;
  });
  const address = args.find((a) => a.startsWith('--web.listen-address='))?.split('=')[1];
  if (!address) throw new Error(`alertmanager args without --web.listen-address: ${args.join(' ')}`);
  const proc = startProcess(enginePath('alertmanager'), args);
  try {
    await waitForPort(Number(address.split(':')[1]), 15_000, address.split(':')[0]);
  } catch (error) {
    await proc.stop('SIGKILL');
    throw new Error(`${(error as Error).message}\n${proc.output()}`);
  }
  return { pod, address, configFile, reload: () => { proc.child.kill('SIGHUP'); }, output: proc.output, stop: () => proc.stop() };
}
