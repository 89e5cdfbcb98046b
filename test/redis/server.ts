import * as fs from 'fs';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import { REDIS_PATHS, Redis, RedisProps } from '../../lib';
import { freePort, requireEngine, run, startProcess } from '../support/engines';
import { K8sObject, findObject } from '../support/synth';
import { RedisError, Reply, RespClient } from './resp';

/**
 * A Redis alone in a chart named `test` (namespace `platform-test`, names without hashes, as in a
 * PlatformChart, which builds its own Redis from the environment).
 */
export function synthRedis(props: RedisProps = {}, build?: (chart: Chart) => Redis): { redis: Redis; objects: K8sObject[] } {
  const chart = new Chart(Testing.app(), 'test', { namespace: 'platform-test', disableResourceNameHashes: true });
  const redis = build ? build(chart) : new Redis(chart, 'redis', props);
  return { redis, objects: Testing.synth(chart) as K8sObject[] };
}

/** The files of the Redis ConfigMap, exactly as synthesized (mounted at /etc/redis in the pod). */
export function synthRedisFiles(props: RedisProps = {}): Record<string, string> {
  return findObject(synthRedis(props).objects, 'ConfigMap', 'test-redis-config').data;
}

/** Writes the ConfigMap files into `dir`, as the pod mounts them; returns the folder. */
export function writeFiles(dir: string, files: Record<string, string>): string {
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), content);
  return dir;
}

/** Where a Redis pod's folders are on this machine (see preparePod). */
export interface PreparedRedisPod {
  readonly etc: string;
  readonly data: string;
  readonly secrets: string;
  readonly auth: string;
  /** The local path of a path in the pod. */
  readonly local: (podPath: string) => string;
}

/**
 * A chart's Redis (StatefulSet `name`) as its pod starts it, in `work`: the ConfigMap's files, each
 * user's Secret key as a file (with the trailing newline `echo` adds), and the init container's
 * exact command with the pod's paths mapped to folders here.
 */
export function preparePod(objects: readonly K8sObject[], name: string, work: string, passwords: Readonly<Record<string, string>>): PreparedRedisPod {
  const statefulSet = findObject(objects, 'StatefulSet', name);
  const configMap = statefulSet.spec.template.spec.volumes.find((v: { name: string }) => v.name === 'config').configMap.name;
  const etc = writeFiles(path.join(work, 'etc'), findObject(objects, 'ConfigMap', configMap).data);
  const [data, secrets, auth] = ['data', 'secrets', 'auth'].map((dir) => fs.mkdirSync(path.join(work, dir), { recursive: true }) ?? path.join(work, dir));
  for (const [user, password] of Object.entries(passwords)) writeFiles(path.join(secrets, user), { password: `${password}\n` });
  const local = (podPath: string) => podPath.replace(REDIS_PATHS.configDir, etc).replace(REDIS_PATHS.passwordDir, secrets).replace(REDIS_PATHS.authDir, auth);
  const init = statefulSet.spec.template.spec.initContainers[0].command as string[];
  run(init[0], init.slice(1).map(local));
  return { etc, data, secrets, auth, local };
}

/**
 * What differs on 127.0.0.1, and nothing else: redis-server reads the synthesized redis.conf
 * unchanged, then these arguments, which Redis applies after the file (last one wins). The pod
 * passes `--dir /data` the same way. aclFile: where auth-init.sh wrote the users (the pod's
 * /run/redis-auth/users.acl).
 */
export function localOverrides(port: number, dataDir: string, aclFile?: string): string[] {
  return ['--port', String(port), '--bind', '127.0.0.1', '--dir', dataDir, ...(aclFile ? ['--aclfile', aclFile] : [])];
}

/** A redis-server started by a test. */
export interface RunningRedis {
  readonly port: number;
  readonly pid: number;
  /** stdout and stderr so far. */
  output(): string;
  /** SIGKILL: no shutdown save, no final fsync. Waits for the exit. */
  kill9(): Promise<void>;
  /** SIGTERM: Redis's own shutdown (final snapshot if save rules exist, AOF fsync). */
  stop(): Promise<void>;
}

const started: RunningRedis[] = [];

/** Kills every server a test started and left running (call in afterEach). */
export async function killAllStarted(): Promise<void> {
  await Promise.all(started.splice(0).map((server) => server.kill9()));
}

/**
 * Starts redis-server with the synthesized config file and the local overrides, and waits until it
 * answers PING with PONG (its dataset is loaded). Rejects with the server's output if it exits.
 */
/** aclFile: the users; user and password: who logs in to see that the server is up. */
interface StartOptions { aclFile?: string; user?: string; password?: string; extraArgs?: string[] }

export async function startRedis(confFile: string, dataDir: string, options: StartOptions = {}): Promise<RunningRedis> {
  // freePort() only finds a port free a moment ago: another suite running in parallel may take it
  // first. Then redis-server exits with "Address already in use": start again on another port.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startRedisOnce(confFile, dataDir, options);
    } catch (error) {
      if (attempt === 3 || !/Address already in use/.test((error as Error).message)) throw error;
    }
  }
}

async function startRedisOnce(confFile: string, dataDir: string, options: StartOptions): Promise<RunningRedis> {
  const binary = requireEngine('redis-server', 'redis-server');
  const port = await freePort();
  const proc = startProcess(binary, [confFile, ...localOverrides(port, dataDir, options.aclFile), ...(options.extraArgs ?? [])]);
  const server: RunningRedis = {
    port,
    pid: proc.child.pid ?? -1,
    output: proc.output,
    kill9: () => proc.stop('SIGKILL'),
    stop: () => proc.stop('SIGTERM'),
  };
  started.push(server);
  // 'close' comes after 'exit' and after the last of its output has been read.
  const exitStatus = new Promise<string>((resolve) => proc.child.once('close', (code, signal) => resolve(String(code ?? signal))));
  const gone = () => proc.child.exitCode !== null || proc.child.signalCode !== null;
  // One outcome per start, decided here and nowhere else: a server that exits while the test waits
  // (a refused config, a port taken) is always reported as "exited" with its output, never as the
  // reset or refused connection the probe saw on the way.
  const login = options.password === undefined ? undefined : [...(options.user ? [options.user] : []), options.password];
  if (await waitUntilLoaded(port, gone, login)) return server;
  throw new Error(`redis-server exited (${await exitStatus}):\n${proc.output()}`);
}

/**
 * Polls until PING answers PONG (true), or until the process is gone (false). A connection that is
 * refused, reset or closed means "not yet, or exiting": only `gone()` decides which, so no probe
 * error escapes. Gives up after 20 s (a loaded CI machine) or on an answer that is neither PONG
 * nor LOADING.
 */
async function waitUntilLoaded(port: number, gone: () => boolean, login?: readonly string[]): Promise<boolean> {
  const deadline = Date.now() + 20_000;
  while (!gone()) {
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PONG within 20 s`);
    const reply = await ping(port, login).catch(() => undefined);
    if (reply === 'PONG') return true;
    if (reply !== undefined && !(reply instanceof RedisError && reply.message.startsWith('LOADING'))) throw new Error(`PING answered ${JSON.stringify(reply)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return false;
}

/** One PING on a fresh connection (after AUTH [user] password if given); rejects on any connection error. */
async function ping(port: number, login?: readonly string[]): Promise<Reply> {
  const client = await RespClient.connect(port);
  try {
    if (login !== undefined) await client.call('AUTH', ...login);
    return await client.call('PING');
  } finally {
    client.close();
  }
}

/** A connected client, logged in if a password is given (as `user`, else as the default user). */
export async function connect(server: RunningRedis, password?: string, user?: string): Promise<RespClient> {
  const client = await RespClient.connect(server.port);
  if (password !== undefined) {
    const reply = await client.call('AUTH', ...(user ? [user] : []), password);
    if (reply !== 'OK') throw new Error(`AUTH answered ${JSON.stringify(reply)}`);
  }
  return client;
}
