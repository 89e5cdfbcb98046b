// The router under abuse, with its real limits (DEFAULT_LIMITS), behind real nginx with the
// generated config (decision cache off, so every request asks the router). Each attack of issue 13
// runs for a bounded time on 127.0.0.1 while two clients keep requesting through nginx; the bounds:
// the router's RSS stays under its pod memory limit (128 MiB) and the other clients' p99 stays
// under the router timeout (300 ms here), every one of their requests answered 200.
import * as fs from 'fs';
import * as net from 'net';
import { DEFAULT_LIMITS } from '../lib/router/service/server';
import { freePort } from './support/engines';
import { configMapFile } from './support/synth';
import { synthStack } from './nginx/chart';
import { RunningNginx, get, localModel, sharedTempDir, startNginx, startRoutedBackend } from './nginx/stack';

jest.setTimeout(30_000);

const ROUTER_TIMEOUT_MS = 300;
const POD_MEMORY_LIMIT_MIB = 128;
const ATTACK_MS = 2000;

const stack = synthStack({ routerTimeoutMs: ROUTER_TIMEOUT_MS });
const dirs: string[] = [];
const stops: (() => Promise<void>)[] = [];
let nginx: RunningNginx;
let routerPort: number;
let routerPid: number;

beforeAll(async () => {
  const { backendPort, router } = await startRoutedBackend(configMapFile(stack.objects, 'test-router-config', 'rules.json'), 'abuse-router', stops, dirs);
  routerPort = router.port;
  routerPid = router.proc.child.pid!;
  const dir = sharedTempDir('abuse-nginx');
  dirs.push(dir);
  const ports = { listen: await freePort(), health: await freePort(), status: await freePort() };
  const backends = { 'app-a': `127.0.0.1:${backendPort}`, 'app-b': `127.0.0.1:${backendPort}` };
  nginx = await startNginx(localModel(stack.nginx.confModel, dir, ports, { router: `127.0.0.1:${router.port}`, backends }, false), dir);
  stops.push(nginx.stop);
});

afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function routerRssMiB(): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${routerPid}/status`, 'utf8'))![1]) / 1024;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Measured {
  readonly p99Ms: number;
  readonly requests: number;
  readonly statuses: number[];
  readonly maxRssMiB: number;
}

/**
 * Runs `attack` while two clients request through nginx for ATTACK_MS; the attack must stop when
 * `state.stopped` turns true. Returns the clients' p99 and statuses and the router's peak RSS.
 */
async function whileAttacked(name: string, attack: (state: { stopped: boolean }) => Promise<unknown>): Promise<Measured> {
  const state = { stopped: false };
  const latencies: number[] = [];
  const statuses = new Set<number>();
  let maxRssMiB = routerRssMiB();
  const sampler = setInterval(() => (maxRssMiB = Math.max(maxRssMiB, routerRssMiB())), 25);
  const attacking = attack(state);
  await sleep(100);
  const clients = [0, 1].map(async (c) => {
    for (let i = 0; !state.stopped; i++) {
      const reply = await get(nginx.port, `/b/client-${c}-${i}`, {}, 5000).catch((e: Error) => ({ status: 0, ms: 5000, error: e }));
      latencies.push(reply.ms);
      statuses.add(reply.status);
    }
  });
  await sleep(ATTACK_MS);
  state.stopped = true;
  await Promise.all([...clients, attacking]);
  clearInterval(sampler);
  maxRssMiB = Math.max(maxRssMiB, routerRssMiB());
  latencies.sort((x, y) => x - y);
  const measured = { p99Ms: latencies[Math.floor(latencies.length * 0.99)], requests: latencies.length, statuses: [...statuses], maxRssMiB: Math.round(maxRssMiB) };
  process.stdout.write(`router-abuse: ${name}: ${JSON.stringify(measured)}\n`);
  return measured;
}

function expectBounded(m: Measured): void {
  expect(m.statuses).toEqual([200]);
  expect(m.requests).toBeGreaterThan(20);
  expect(m.p99Ms).toBeLessThan(ROUTER_TIMEOUT_MS);
  expect(m.maxRssMiB).toBeLessThan(POD_MEMORY_LIMIT_MIB);
}

/** A raw connection to the router, errors ignored (the router may reset it). */
function connect(): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(routerPort, '127.0.0.1', () => resolve(socket));
    socket.on('error', reject);
  }).then((socket) => {
    (socket as net.Socket).removeAllListeners('error');
    (socket as net.Socket).on('error', () => undefined);
    // Reading, so that the router's close is seen (what it sends is not kept).
    (socket as net.Socket).resume();
    return socket as net.Socket;
  });
}

/** Resolves when `socket` closes, with the milliseconds it took, or with undefined after `withinMs`. */
function closedWithin(socket: net.Socket, withinMs: number): Promise<number | undefined> {
  const started = Date.now();
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve(0);
    const timer = setTimeout(() => resolve(undefined), withinMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(Date.now() - started);
    });
  });
}

const ROUTE = 'GET /route HTTP/1.1\r\nHost: router\r\nX-Original-URI: /b/x\r\n\r\n';
/** The header deadline as the server enforces it: the timeout plus one check interval. */
const HEADER_DEADLINE_MS = DEFAULT_LIMITS.headersTimeoutMs + DEFAULT_LIMITS.checkIntervalMs;

test('ReDoS-shaped headers (a letter, 8,000 spaces, a letter) through nginx, and a 30 KB one straight to the router, cost nothing', async () => {
  const spaces = `a${' '.repeat(8000)}b`;
  let sent = 0;
  const m = await whileAttacked('redos headers', async (state) => {
    await Promise.all([0, 1, 2, 3].map(async () => {
      while (!state.stopped) {
        await get(nginx.port, '/x', { 'X-A': spaces, 'X-B': spaces, 'X-C': spaces }, 5000).catch(() => undefined);
        sent++;
      }
    }));
  });
  expectBounded(m);
  expect(sent).toBeGreaterThan(10);
  const direct = await get(routerPort, '/route', { 'X-Original-URI': '/b/x', 'X-Pad': `a${' '.repeat(30_000)}b` });
  expect(direct.status).toBe(204);
  expect(direct.ms).toBeLessThan(ROUTER_TIMEOUT_MS);
});

/**
 * The router's answer to one refused request, sent in one write with nothing after it: the client
 * reads until the router closes. (Under a flood the answer can be lost, and rightly: the client's
 * next write meets the router's reset, and node drops what it had not read yet.)
 */
function refusalOf(request: string): Promise<string> {
  return connect().then((socket) => new Promise((resolve) => {
    let answer = '';
    socket.on('data', (d) => (answer += d.toString('latin1')));
    socket.on('close', () => resolve(answer.split('\r\n')[0]));
    socket.write(request);
  }));
}

const BAD_HEADER = 'GET /route HTTP/1.1\r\nHost: r\r\nBad Header\r\n\r\n';
const OVERSIZED_HEADER = 'GET /route HTTP/1.1\r\nHost: r\r\nX-Pad: ';

test('a refused client gets one answer and is disconnected: 400 for a malformed header, 431 past the header limit', async () => {
  expect(await refusalOf(BAD_HEADER)).toBe('HTTP/1.1 400 Bad Request');
  expect(await refusalOf(`${OVERSIZED_HEADER}${'a'.repeat(DEFAULT_LIMITS.maxHeaderBytes + 1024)}`)).toBe('HTTP/1.1 431 Request Header Fields Too Large');
});

test('refused clients streaming 96 MiB after the refusal are cut off by the router and do not grow it', async () => {
  // 96 MiB in all, a quarter per flood: the quickly refused 400s cannot use up the 431s' share.
  const limit = 24 * 1024 * 1024;
  let bytes = 0;
  const cutByRouter = { [BAD_HEADER]: 0, [OVERSIZED_HEADER]: 0 };
  const cutByUs = { [BAD_HEADER]: 0, [OVERSIZED_HEADER]: 0 };
  const chunk = Buffer.alloc(256 * 1024, 'a');
  const flood = async (head: string, state: { stopped: boolean }) => {
    let sent = 0;
    while (!state.stopped && sent < limit) {
      const socket = await connect().catch(() => undefined);
      if (!socket) continue;
      let closedByUs = false;
      await new Promise<void>((resolve) => {
        const pump = () => {
          while (!state.stopped && sent < limit && !socket.destroyed) {
            sent += chunk.length;
            bytes += chunk.length;
            if (!socket.write(chunk)) return;
          }
          closedByUs = !socket.destroyed;
          socket.destroy();
        };
        socket.on('drain', pump);
        socket.on('close', () => resolve());
        socket.write(head);
        pump();
      });
      (closedByUs ? cutByUs : cutByRouter)[head as keyof typeof cutByRouter]++;
    }
  };
  const m = await whileAttacked('refused flood', (state) => Promise.all([
    flood(BAD_HEADER, state),
    flood(BAD_HEADER, state),
    flood(OVERSIZED_HEADER, state),
    flood(OVERSIZED_HEADER, state),
  ]));
  process.stdout.write(`router-abuse: refused flood: connections cut by the router ${JSON.stringify(Object.values(cutByRouter))}, by the flood's end ${JSON.stringify(Object.values(cutByUs))}, ${Math.round(bytes / 1024 / 1024)} MiB sent\n`);
  expectBounded(m);
  expect(bytes).toBeGreaterThan(16 * 1024 * 1024);
  // The router cuts the connections (a flood itself closes only the one it was feeding at its end).
  expect(cutByRouter[BAD_HEADER]).toBeGreaterThan(2);
  expect(cutByRouter[OVERSIZED_HEADER]).toBeGreaterThan(2);
});

test('20,000 pipelined requests never read hold one connection, not the router', async () => {
  let socket!: net.Socket;
  const m = await whileAttacked('20,000 pipelined unread', async (state) => {
    socket = await connect();
    socket.pause();
    socket.write(ROUTE.repeat(20_000));
    while (!state.stopped) await sleep(50);
  });
  expectBounded(m);
  // Answers wait in the socket buffers (node stops parsing while the client does not read) ...
  socket.resume();
  let answered = 0;
  socket.on('data', (d) => (answered += d.toString('latin1').split('HTTP/1.1 ').length - 1));
  // ... and the connection still closes after maxRequestsPerSocket.
  expect(await closedWithin(socket, 10_000)).toBeDefined();
  expect(answered).toBeLessThanOrEqual(DEFAULT_LIMITS.maxRequestsPerSocket + 1);
});

test('a header sent a byte every 20 s is cut at the header deadline (408)', async () => {
  const socket = await connect();
  let answer = '';
  socket.on('data', (d) => (answer += d.toString('latin1')));
  socket.write('G');
  const closedAfter = await closedWithin(socket, HEADER_DEADLINE_MS + 1000);
  expect(closedAfter).toBeDefined();
  expect(closedAfter!).toBeLessThan(20_000);
  expect(answer).toMatch(/^HTTP\/1\.1 408 /);
});

test('600 partial headers, each 1 KiB short of the header limit: RSS and latency bounded, all cut at the header deadline', async () => {
  const sockets: net.Socket[] = [];
  const started = Date.now();
  const m = await whileAttacked('600 partial headers', async (state) => {
    const partial = `GET /route HTTP/1.1\r\nHost: r\r\nX-Pad: ${'a'.repeat(DEFAULT_LIMITS.maxHeaderBytes - 1024)}`;
    for (let i = 0; i < 600 && !state.stopped; i++) {
      const socket = await connect();
      socket.write(partial);
      sockets.push(socket);
    }
    while (!state.stopped) await sleep(50);
  });
  expectBounded(m);
  expect(sockets).toHaveLength(600);
  const closed = await Promise.all(sockets.map((s) => closedWithin(s, Math.max(0, started + HEADER_DEADLINE_MS + 2000 - Date.now()))));
  expect(closed.filter((c) => c === undefined)).toHaveLength(0);
});

test('a burst of idle and half-open connections, over the connection cap: nginx keeps routing, all of them are cut at the header deadline', async () => {
  const sockets: net.Socket[] = [];
  const started = Date.now();
  const m = await whileAttacked('idle and half-open burst', async (state) => {
    for (let i = 0; i < DEFAULT_LIMITS.maxConnections + 100 && !state.stopped; i++) {
      const socket = await connect().catch(() => undefined);
      if (!socket) continue;
      // Every third one half-closes after part of a request; the rest send nothing.
      if (i % 3 === 0) socket.end('GET /route HTTP/1.1\r\nHost: r\r\n');
      sockets.push(socket);
    }
    while (!state.stopped) await sleep(50);
  });
  expectBounded(m);
  const closed = await Promise.all(sockets.map((s) => closedWithin(s, Math.max(0, started + HEADER_DEADLINE_MS + 2000 - Date.now()))));
  expect(closed.filter((c) => c === undefined)).toHaveLength(0);
  // And the router serves new connections again.
  expect((await get(routerPort, '/healthz')).status).toBe(200);
});
