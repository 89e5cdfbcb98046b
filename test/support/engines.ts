import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

const engineTable = require('../../scripts/engines/table') as { enginePath(binary: string): string; findOnPath(binary: string): string | undefined };

/**
 * The absolute path of a Debian engine binary (nginx, redis-server, wrk). A missing engine fails
 * the test with what to run: engine tests are never skipped.
 */
export function requireEngine(binary: string, debianPackage: string): string {
  const file = engineTable.findOnPath(binary);
  if (!file) throw new Error(`${binary} not found: run \`npm run engines\` (npm test does it first; it installs the Debian package ${debianPackage}). Engine tests are never skipped.`);
  return file;
}

/**
 * The absolute path of a binary of an engine in scripts/engines/table.js, where `npm run engines`
 * puts it (`npm test` runs that first). A missing one fails the test saying so: never skipped.
 */
export function enginePath(binary: string): string {
  const file = engineTable.enginePath(binary);
  if (!fs.existsSync(file)) throw new Error(`${binary} not found at ${file}: run \`npm run engines\` (npm test does it first). Engine tests are never skipped.`);
  return file;
}

// Ports handed out by freePort: below the kernel's ephemeral range (32768 and up), so no outgoing
// connection takes one, and in a block of its own per jest worker, so parallel suites never pick
// the same one; never twice in one process.
const PORT_BLOCK = 1000;
const handedOut = new Set<number>();

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A TCP port on 127.0.0.1 that nothing listens on right now, and that no other test is given. */
export async function freePort(): Promise<number> {
  const worker = Number(process.env.JEST_WORKER_ID ?? 1);
  const first = 20000 + ((worker - 1) % 12) * PORT_BLOCK;
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = first + Math.floor(Math.random() * PORT_BLOCK);
    if (handedOut.has(port)) continue;
    if (await canListen(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port in ${first}-${first + PORT_BLOCK - 1}`);
}

/** Resolves once something accepts connections on host:port (127.0.0.1 unless told); rejects after timeoutMs. */
export async function waitForPort(port: number, timeoutMs = 10_000, host = '127.0.0.1'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, host);
      socket.once('connect', () => { socket.destroy(); resolve(true); });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listened on ${host}:${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Polls `probe` every `intervalMs` until it returns something; after `timeoutMs`, throws what `failure` says. */
export async function eventually<T>(probe: () => T | undefined | Promise<T | undefined>, timeoutMs: number, failure: () => string | Promise<string>, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(await failure());
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A fresh temporary folder, removed by the caller. */
export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
}

/** Runs a command to completion; returns stdout+stderr, throws with the output on a non-zero exit. */
export function run(binary: string, args: readonly string[], options: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv } = {}): string {
  try {
    return execFileSync(binary, args, { cwd: options.cwd, input: options.input, env: options.env, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${binary} ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

/** Starts a long-running process; the returned stop() kills it (SIGKILL if asked) and waits for exit. */
export function startProcess(binary: string, args: readonly string[], options: { cwd?: string } = {}): { child: ChildProcess; output: () => string; stop: (signal?: NodeJS.Signals) => Promise<void> } {
  const child = spawn(binary, args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    output: () => output,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
