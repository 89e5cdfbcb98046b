// Engine-test harness: real nginx with the generated config, the real router, Redis and backends,
// all on 127.0.0.1 free ports, in a temp folder. Used by the engine test and the benchmark.
//
// The one documented substitution: in-cluster addresses, ports and paths. The test takes the
// construct's typed model (`Nginx.confModel`), replaces only listen addresses, upstream addresses,
// writable paths and log destinations, and renders it with the same renderer the ConfigMap uses.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as path from 'path';
import { RoutingConfModel, renderRoutingConf } from '../../lib/nginx/routing-conf';
import { ROUTER_NODE_FLAGS } from '../../lib/router/router';
import { freePort, requireEngine, run, startProcess, tempDir, waitForPort } from '../support/engines';
import { localRules } from './chart';

const ROOT = path.resolve(__dirname, '..', '..');
export const ROUTER_SERVICE_DIR = path.join(ROOT, 'lib', 'router', 'service');
/** The router service's entry point: the one file that starts it. */
export const ROUTER_SOURCE = path.join(ROUTER_SERVICE_DIR, 'main.ts');

type Proc = ReturnType<typeof startProcess>;

/** A small HTTP server that answers who it is and counts hits, and records what it was sent. */
export interface TestServer {
  readonly port: number;
  readonly hits: () => number;
  /** TCP connections accepted so far. */
  readonly connections: () => number;
  readonly lastHeaders: () => http.IncomingHttpHeaders | undefined;
  readonly close: () => Promise<void>;
}

export async function startServer(handler: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<TestServer> {
  let hits = 0;
  let last: http.IncomingHttpHeaders | undefined;
  const server = http.createServer((req, res) => {
    hits++;
    last = req.headers;
    handler(req, res);
  });
  // Longer than nginx's upstream keepalive_timeout: nginx closes idle connections first.
  server.keepAliveTimeout = 65_000;
  let connections = 0;
  server.on('connection', () => connections++);
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port,
    hits: () => hits,
    connections: () => connections,
    lastHeaders: () => last,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/** A backend that answers `backend <name> <uri>`. */
export function startBackend(name: string): Promise<TestServer> {
  return startServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain', 'X-Backend': name });
    res.end(`backend ${name} ${req.url}\n`);
  });
}

/** A backend in a process of its own (the benchmark blocks its own event loop while wrk runs). */
export async function startBackendProcess(name: string): Promise<{ port: number; stop: () => Promise<void> }> {
  const port = await freePort();
  const script = `const s = require('http').createServer((q, r) => { r.writeHead(200, { 'Content-Type': 'text/plain', 'X-Backend': ${JSON.stringify(name)} }); r.end('backend ' + ${JSON.stringify(name)} + ' ' + q.url + '\\n'); }); s.keepAliveTimeout = 65000; s.listen(${port}, '127.0.0.1');`;
  const proc = startProcess(process.execPath, ['-e', script]);
  await waitForPort(port, 5000);
  return { port, stop: () => proc.stop('SIGKILL') };
}

/** The response of one request, as a client sees it. */
export interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  readonly ms: number;
}

/** One GET on 127.0.0.1 (no connection reuse), bounded by `timeoutMs`. */
export function get(port: number, urlPath: string, headers: http.OutgoingHttpHeaders = {}, timeoutMs = 5000): Promise<Reply> {
  return request(port, 'GET', urlPath, headers, undefined, timeoutMs);
}

/** One request on 127.0.0.1 (no connection reuse), bounded by `timeoutMs`. */
export function request(port: number, method: string, urlPath: string, headers: http.OutgoingHttpHeaders = {}, body?: string, timeoutMs = 5000): Promise<Reply> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, headers, agent: false, timeout: timeoutMs }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, ms: Date.now() - started }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${urlPath} took longer than ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * One GET with the request target sent byte for byte (node's http client would refuse or rewrite
 * some of the targets the path tests send), `Connection: close`; the status and body.
 */
export function rawGet(port: number, target: string, headers: Record<string, string> = {}, timeoutMs = 5000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    const timer = setTimeout(() => socket.destroy(new Error(`GET ${target} took longer than ${timeoutMs} ms`)), timeoutMs);
    socket.on('data', (chunk) => (text += chunk.toString('latin1')));
    socket.on('error', (error) => { clearTimeout(timer); reject(error); });
    socket.on('close', () => {
      clearTimeout(timer);
      const head = text.indexOf('\r\n\r\n');
      resolve({ status: Number(text.split(' ')[1]), body: head < 0 ? '' : text.slice(head + 4) });
    });
    const lines = Object.entries({ Host: 'shop.example', ...headers, Connection: 'close' }).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    socket.write(`GET ${target} HTTP/1.1\r\n${lines}\r\n`, 'latin1');
  });
}

/**
 * A scratch folder nginx's workers can use too (they drop to `nobody` when the tests run as root),
 * in memory where the machine has /dev/shm, as the pod's decision cache is (an emptyDir of medium
 * Memory): a disk-backed cache would measure this machine's disk, not the config.
 */
export function sharedTempDir(prefix: string): string {
  const dir = fs.existsSync('/dev/shm') ? fs.mkdtempSync(path.join('/dev/shm', `${prefix}-`)) : tempDir(prefix);
  fs.chmodSync(dir, 0o755);
  return dir;
}

export interface RunningNginx {
  readonly port: number;
  readonly statusPort: number;
  readonly healthPort: number;
  readonly confFile: string;
  readonly accessLog: () => string;
  readonly errorLog: () => string;
  readonly stop: () => Promise<void>;
}

/** The construct's model with in-cluster addresses, ports and paths replaced by local ones. */
export function localModel(model: RoutingConfModel, dir: string, ports: { listen: number; health: number; status: number }, addresses: { router: string; backends: Record<string, string> }, accessLog = true): RoutingConfModel {
  return {
    ...model,
    listen: `127.0.0.1:${ports.listen}`,
    healthListen: `127.0.0.1:${ports.health}`,
    statusListen: `127.0.0.1:${ports.status}`,
    router: addresses.router,
    backends: model.backends.map((b) => {
      const address = addresses.backends[b.name];
      if (!address) throw new Error(`no local address for backend ${b.name}`);
      return { name: b.name, address };
    }),
    paths: { pidFile: path.join(dir, 'nginx.pid'), tempDir: dir, cacheDir: path.join(dir, 'cache') },
    accessLog: accessLog ? path.join(dir, 'access.log') : 'off',
    errorLog: path.join(dir, 'error.log'),
  };
}

/** `nginx -t` on a config file; returns nginx's output (it writes to stderr), throws with it on failure. */
export function nginxTest(confFile: string): string {
  const nginx = requireEngine('nginx', 'nginx-light');
  const result = spawnSync(nginx, ['-t', '-p', path.dirname(confFile), '-c', confFile], { encoding: 'utf8', timeout: 10_000 });
  const output = `${result.stdout}${result.stderr}`;
  if (result.status !== 0) throw new Error(`nginx -t failed:\n${output}`);
  return output;
}

/** Starts nginx on a rendered local model, as the pod does (`-g 'daemon off;'`). */
export async function startNginx(model: RoutingConfModel, dir: string): Promise<RunningNginx> {
  const nginx = requireEngine('nginx', 'nginx-light');
  const confFile = path.join(dir, 'nginx.conf');
  fs.writeFileSync(confFile, renderRoutingConf(model));
  const proc = startProcess(nginx, ['-p', dir, '-c', confFile, '-g', 'daemon off;']);
  const port = Number(model.listen.split(':').pop());
  try {
    await waitForPort(port, 5000, model.listen.includes(':') ? model.listen.split(':')[0] : '127.0.0.1');
  } catch (error) {
    await proc.stop('SIGKILL');
    throw new Error(`${(error as Error).message}\n${proc.output()}${readIfExists(path.join(dir, 'error.log'))}`);
  }
  return {
    port,
    statusPort: Number(model.statusListen.split(':').pop()),
    healthPort: Number(model.healthListen.split(':').pop()),
    confFile,
    accessLog: () => readIfExists(model.accessLog),
    errorLog: () => readIfExists(model.errorLog),
    // SIGQUIT would wait for keepalive clients; SIGTERM is nginx's fast shutdown.
    stop: () => proc.stop('SIGTERM'),
  };
}

function readIfExists(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/**
 * The real router (lib/router/service/main.ts) on a rules.json, run from source with the pod's node
 * flags, on 127.0.0.1 and a free port unless `listen` says where.
 */
export async function startRouter(rulesJson: string, dir: string, listen?: { host: string; port: number }): Promise<{ port: number; proc: Proc; stop: () => Promise<void> }> {
  const rules = path.join(dir, 'rules.json');
  fs.writeFileSync(rules, rulesJson);
  const host = listen?.host ?? '127.0.0.1';
  const port = listen?.port ?? (await freePort());
  const proc = startProcess(process.execPath, [...ROUTER_NODE_FLAGS, '-r', path.join(ROOT, 'scripts', 'run-ts.js'), ROUTER_SOURCE, '--config', rules, '--port', String(port), '--host', host, '--drain-ms', '0']);
  try {
    await waitForPort(port, 10_000, host);
  } catch (error) {
    await proc.stop('SIGKILL');
    throw new Error(`${(error as Error).message}\n${proc.output()}`);
  }
  return { port, proc, stop: () => proc.stop('SIGKILL') };
}

/**
 * The dynamic route's world on 127.0.0.1: one backend ('app'), a Redis, and the router on the
 * chart's rules.json (`rulesJson`) pointed at that Redis. Each stop and temp folder goes onto the
 * caller's lists as soon as it exists, so the caller cleans up even when a later start fails.
 */
export async function startRoutedBackend(rulesJson: string, dirPrefix: string, stops: (() => Promise<void>)[], dirs: string[]): Promise<{ backendPort: number; router: { port: number; proc: Proc } }> {
  const backend = await startBackendProcess('app');
  stops.push(backend.stop);
  const redis = await startRedis();
  stops.push(redis.stop);
  const routerDir = sharedTempDir(dirPrefix);
  dirs.push(routerDir);
  const router = await startRouter(localRules(rulesJson, redis.port), routerDir);
  stops.push(router.stop);
  return { backendPort: backend.port, router };
}

/** A throwaway redis-server: no persistence, loopback only. */
export async function startRedis(): Promise<{ port: number; cli: (...args: string[]) => string; stop: () => Promise<void> }> {
  const server = requireEngine('redis-server', 'redis-server');
  const cli = requireEngine('redis-cli', 'redis-tools');
  const port = await freePort();
  const proc = startProcess(server, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
  await waitForPort(port, 5000);
  return { port, cli: (...args) => run(cli, ['-p', String(port), ...args]).trim(), stop: () => proc.stop('SIGKILL') };
}
