// The router's HTTP server limits (lib/router/service/server.ts, node:http): each one, set small,
// against raw sockets on 127.0.0.1, so every byte on the wire is the test's own. The parsing itself
// is llhttp's; test/router-abuse.test.ts runs the attacks against the real defaults.
import * as net from 'net';
import { parseRouterConfig } from '../lib/router/service/rules';
import { DEFAULT_LIMITS, ServerLimits, createRouterServer } from '../lib/router/service/server';
import { freePort } from './support/engines';

jest.setTimeout(10_000);

const ROUTE = 'GET /route HTTP/1.1\r\nHost: router\r\nX-Original-URI: /b/x\r\n\r\n';

interface Exchange {
  /** Everything the server sent. */
  readonly text: string;
  /** True when the server closed the connection (within the wait). */
  readonly closed: boolean;
  readonly ms: number;
}

/** Sends `bytes` on a new connection; collects what comes back until the server closes or `waitMs` passes. */
function exchange(port: number, bytes: string, waitMs = 500): Promise<Exchange> {
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    const done = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, closed, ms: Date.now() - started });
    };
    const timer = setTimeout(() => done(false), waitMs);
    socket.on('data', (chunk) => (text += chunk.toString('latin1')));
    socket.on('close', () => done(true));
    socket.on('error', () => undefined);
    socket.write(bytes, 'latin1');
  });
}

/** The status lines of every response in `text`, in order. */
const statuses = (text: string) => [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));

async function serve(limits: Partial<ServerLimits> = {}) {
  const { parsed } = parseRouterConfig({ targets: ['app-a', 'app-b'], rules: [{ strategy: 'pathPrefix', params: { prefix: '/b/', target: 'app-b' } }], defaultTarget: 'app-a' });
  const router = createRouterServer(parsed!, { limits });
  const port = await freePort();
  await new Promise<void>((resolve) => router.server.listen(port, '127.0.0.1', resolve));
  return { port, close: () => new Promise<void>((resolve) => { router.server.closeAllConnections(); router.server.close(() => resolve()); }) };
}

let server: Awaited<ReturnType<typeof serve>> | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

test('the defaults: 32 KiB of headers, a 5 s header deadline checked every second, 65 s keep-alive, 1000 requests a connection, 1000 connections', () => {
  expect(DEFAULT_LIMITS).toEqual({ maxHeaderBytes: 32_768, headersTimeoutMs: 5_000, requestTimeoutMs: 10_000, keepAliveTimeoutMs: 65_000, maxRequestsPerSocket: 1000, maxConnections: 1000, checkIntervalMs: 1_000 });
});

test('keep-alive, pipelined requests answered in order, HTTP/1.0 and HEAD, as NGINX, the kubelet and Prometheus send them', async () => {
  server = await serve();
  const pipelined = await exchange(server.port, ROUTE + ROUTE.replace('/b/x', '/a') + 'HEAD /healthz HTTP/1.1\r\nHost: r\r\n\r\n');
  expect(statuses(pipelined.text)).toEqual([204, 204, 200]);
  expect([...pipelined.text.matchAll(/X-Route-Target: (\S+)/g)].map((m) => m[1])).toEqual(['app-b', 'app-a']);
  expect(pipelined.text.endsWith('\r\n\r\n')).toBe(true);
  expect(pipelined.closed).toBe(false);
  const old = await exchange(server.port, 'GET /healthz HTTP/1.0\r\n\r\n');
  expect([statuses(old.text), old.text.endsWith('ok\n'), old.closed]).toEqual([[200], true, true]);
});

test('headers over maxHeaderBytes get 431 and a close: nothing after them is read', async () => {
  server = await serve({ maxHeaderBytes: 1024 });
  const reply = await exchange(server.port, `GET /route HTTP/1.1\r\nHost: r\r\nX-Pad: ${'a'.repeat(2000)}\r\n\r\n${ROUTE}`);
  expect([statuses(reply.text), reply.closed]).toEqual([[431], true]);
});

test('a request llhttp cannot frame gets 400 and a close, never a guess (obsolete folding, a bare LF, a bad version, a body on a GET)', async () => {
  server = await serve();
  for (const bad of [
    'GET /route HTTP/1.1\r\nHost: r\r\nX-A: a\r\n b\r\n\r\n',
    'GET /route HTTP/1.1\r\nHost: r\r\nBad Header\r\n\r\n',
    'GET /route HTTP/9.9\r\nHost: r\r\n\r\n',
    'GET /route HTTP/1.1\r\nHost: r\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
  ]) {
    const reply = await exchange(server.port, bad + ROUTE);
    expect([JSON.stringify(bad), statuses(reply.text), reply.closed]).toEqual([JSON.stringify(bad), [400], true]);
  }
});

test('a header that does not complete within headersTimeoutMs gets 408 and a close', async () => {
  server = await serve({ headersTimeoutMs: 300, requestTimeoutMs: 600, checkIntervalMs: 50 });
  const reply = await exchange(server.port, 'GET /route HTTP/1.1\r\nHost: r\r\nX-Slow: a', 3000);
  expect([statuses(reply.text), reply.closed]).toEqual([[408], true]);
  expect(reply.ms).toBeLessThan(300 + 2 * 50 + 200);
  // A connection that sends nothing at all is held no longer.
  const idle = await exchange(server.port, '', 3000);
  expect([idle.closed, idle.ms < 300 + 2 * 50 + 200]).toEqual([true, true]);
});

test('an idle keep-alive connection closes after keepAliveTimeoutMs', async () => {
  server = await serve({ keepAliveTimeoutMs: 200, checkIntervalMs: 100 });
  const reply = await exchange(server.port, ROUTE, 3000);
  expect([statuses(reply.text), reply.closed]).toEqual([[204], true]);
  expect(reply.ms).toBeLessThan(200 + 1000 + 300);
});

test('the last request of maxRequestsPerSocket is answered Connection: close, then the connection closes', async () => {
  server = await serve({ maxRequestsPerSocket: 2 });
  const reply = await exchange(server.port, ROUTE + ROUTE, 1000);
  expect([statuses(reply.text), /Connection: close/i.test(reply.text.slice(reply.text.lastIndexOf('HTTP/1.1'))), reply.closed]).toEqual([[204, 204], true, true]);
});

test('connections over maxConnections are closed on accept; the ones held keep being served', async () => {
  server = await serve({ maxConnections: 3 });
  const held = await Promise.all([0, 1, 2].map(() => new Promise<net.Socket>((resolve) => { const s = net.connect(server!.port, '127.0.0.1', () => resolve(s)); })));
  await new Promise((r) => setTimeout(r, 50));
  const over = await exchange(server.port, ROUTE, 1000);
  expect([over.text, over.closed]).toEqual(['', true]);
  const answer = await new Promise<string>((resolve) => { held[0].once('data', (d) => resolve(d.toString())); held[0].write(ROUTE); });
  expect(statuses(answer)).toEqual([204]);
  held.forEach((s) => s.destroy());
});
