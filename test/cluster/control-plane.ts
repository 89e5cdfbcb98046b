// A local Kubernetes control plane for the tests, started and stopped by the suite that needs it:
// etcd + kube-apiserver (RBAC, the default admission plugins, PodSecurity among them) +
// kube-controller-manager (so Deployments and StatefulSets create Pods and claims), all on
// 127.0.0.1 ports, in a temporary folder removed by stop(). No scheduler and no kubelet: Pods are
// created and admitted, then stay Pending, which is all the tests ask of them.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { enginePath, freePort, run, startProcess, tempDir } from '../support/engines';

type Process = ReturnType<typeof startProcess>;

export interface KubectlResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** What the tests need to talk to the control plane. */
export interface ControlPlane {
  /** https://127.0.0.1:<port> of the API server. */
  readonly server: string;
  /** kubeconfig of an admin (client certificate in group system:masters). */
  readonly kubeconfig: string;
  /** The CA that signed the API server's serving certificate. */
  readonly caFile: string;
  readonly dir: string;
  /** Runs kubectl as the admin; throws with the output on a non-zero exit. */
  kubectl(args: readonly string[], input?: string): string;
  /** Runs kubectl as the admin; its exit status, stdout and stderr (kubectl's warnings go there). */
  kubectlResult(args: readonly string[], input?: string): KubectlResult;
  /** Log of each process so far (etcd, kube-apiserver, kube-controller-manager). */
  logs(): Record<string, string>;
  stop(): Promise<void>;
}

function openssl(dir: string, args: string[]): void {
  run(enginePath('openssl'), args, { cwd: dir });
}

/** A P-256 key and a certificate for `subject`, signed by the CA (or self-signed for the CA itself). */
function certificate(dir: string, name: string, subject: string, extensions: string[]): void {
  openssl(dir, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`]);
  if (name === 'ca') {
    openssl(dir, ['req', '-x509', '-new', '-key', 'ca.key', '-subj', subject, '-days', '2', '-out', 'ca.crt', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    return;
  }
  openssl(dir, ['req', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`]);
  fs.writeFileSync(path.join(dir, `${name}.ext`), `${extensions.join('\n')}\n`);
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.crt`]);
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs: number, logs: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = probe();
      if (value !== undefined) return value;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms\n${logs().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Starts etcd, kube-apiserver and kube-controller-manager; resolves once the API server is ready. */
export async function startControlPlane(): Promise<ControlPlane> {
  const dir = tempDir('control-plane');
  const pki = path.join(dir, 'pki');
  fs.mkdirSync(pki);
  certificate(pki, 'ca', '/CN=cdk8s-platform-stack-test-ca', []);
  certificate(pki, 'apiserver', '/CN=kube-apiserver', ['subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes.default.svc', 'extendedKeyUsage=serverAuth']);
  certificate(pki, 'admin', '/O=system:masters/CN=admin', ['extendedKeyUsage=clientAuth']);
  // The key that signs ServiceAccount tokens (the API server) and verifies them.
  openssl(pki, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'sa.key']);

  const processes: Record<string, Process> = {};
  const logs = () => Object.fromEntries(Object.entries(processes).map(([name, p]) => [name, p.output()]));
  const allLogs = () => Object.entries(logs()).map(([name, text]) => `--- ${name}\n${text.slice(-3000)}`).join('\n');
  const stop = async () => {
    for (const name of ['kube-controller-manager', 'kube-apiserver', 'etcd']) await processes[name]?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  };

  try {
    const [etcdClient, etcdPeer, apiPort] = [await freePort(), await freePort(), await freePort()];
    const etcdUrl = `http://127.0.0.1:${etcdClient}`;
    processes.etcd = startProcess(enginePath('etcd'), [
      '--name=test', `--data-dir=${path.join(dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`, `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`, `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=test=http://127.0.0.1:${etcdPeer}`,
      // A throwaway store: no fsync, as envtest runs it.
      '--unsafe-no-fsync', '--log-level=warn',
    ]);

    processes['kube-apiserver'] = startProcess(enginePath('kube-apiserver'), [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1', '--advertise-address=127.0.0.1', `--secure-port=${apiPort}`,
      `--cert-dir=${path.join(dir, 'apiserver')}`,
      `--tls-cert-file=${path.join(pki, 'apiserver.crt')}`, `--tls-private-key-file=${path.join(pki, 'apiserver.key')}`,
      `--client-ca-file=${path.join(pki, 'ca.crt')}`,
      '--authorization-mode=RBAC',
      '--service-cluster-ip-range=10.0.0.0/24',
      '--service-account-issuer=https://kubernetes.default.svc',
      `--service-account-key-file=${path.join(pki, 'sa.key')}`, `--service-account-signing-key-file=${path.join(pki, 'sa.key')}`,
      // The default admission plugins (PodSecurity, ServiceAccount, LimitRanger, ...) stay on.
    ]);

    const server = `https://127.0.0.1:${apiPort}`;
    const kubeconfig = path.join(dir, 'admin.kubeconfig');
    fs.writeFileSync(kubeconfig, JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'test', cluster: { server, 'certificate-authority': path.join(pki, 'ca.crt') } }],
      users: [{ name: 'admin', user: { 'client-certificate': path.join(pki, 'admin.crt'), 'client-key': path.join(pki, 'admin.key') } }],
      contexts: [{ name: 'test', context: { cluster: 'test', user: 'admin' } }],
      'current-context': 'test',
    }));
    const kubectl = (args: readonly string[], input?: string) => run(enginePath('kubectl'), [`--kubeconfig=${kubeconfig}`, ...args], { input });
    const kubectlResult = (args: readonly string[], input?: string): KubectlResult => {
      const result = spawnSync(enginePath('kubectl'), [`--kubeconfig=${kubeconfig}`, ...args], { input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
      return { status: result.status, stdout: result.stdout, stderr: result.stderr };
    };
    await until('kube-apiserver ready', () => (kubectl(['get', '--raw=/readyz']).trim() === 'ok' ? true : undefined), 120_000, allLogs);

    processes['kube-controller-manager'] = startProcess(enginePath('kube-controller-manager'), [
      `--kubeconfig=${kubeconfig}`,
      `--service-account-private-key-file=${path.join(pki, 'sa.key')}`, `--root-ca-file=${path.join(pki, 'ca.crt')}`,
      '--bind-address=127.0.0.1', `--secure-port=${await freePort()}`, `--cert-dir=${path.join(dir, 'controller-manager')}`,
      '--leader-elect=false', '--controllers=*',
    ]);
    // The ServiceAccount controller runs once "default" appears in a namespace.
    await until('kube-controller-manager running', () => (kubectl(['get', 'serviceaccount', 'default', '-n', 'default', '-o', 'name']).trim() ? true : undefined), 120_000, allLogs);

    return { server, kubeconfig, caFile: path.join(pki, 'ca.crt'), dir, kubectl, kubectlResult, logs, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
