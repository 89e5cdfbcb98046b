// The router's lean HTTP/1.1 server (createLeanServer in lib/router/service/router.ts): what it
// speaks with NGINX, the kubelet and Prometheus, and what it refuses. Raw sockets on 127.0.0.1, so
// every byte on the wire is the test's own.
import * as net from 'net';
import { LeanHandler, LeanRequest, LeanResponse, createLeanServer, parseRequestHead } from '../lib/router/service/router';
import { freePort } from './support/engines';
import { get } from './nginx/stack';

jest.setTimeout(10_000);

interface Exchange {
  /** Everything the server sent. */
  readonly text: string;
  /** True when the server closed the connection (within the wait). */
  readonly closed: boolean;
}

/** Sends `bytes` on a new connection; collects what comes back until the server closes or `waitMs` passes. */
function exchange(port: number, bytes: string, waitMs = 300): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    const done = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, closed });
    };
    const timer = setTimeout(() => done(false), waitMs);
    socket.on('data', (chunk) => (text += chunk.toString('latin1')));
    socket.on('end', () => done(true));
    socket.on('error', reject);
    socket.write(bytes, 'latin1');
  });
}

/** The status lines of every response in `text`, in order. */
const statuses = (text: string) => [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));

async function serve(handler: LeanHandler, options: { idleTimeoutMs?: number; maxHeaderBytes?: number } = {}) {
  const lean = createLeanServer(handler, options);
  const port = await freePort();
  await new Promise<void>((resolve) => lean.server.listen(port, '127.0.0.1', resolve));
  return {
    port,
    close: () => {
      lean.closeAllConnections();
      return new Promise((resolve) => lean.server.close(resolve));
    },
  };
}

/** Answers 200 with the request target and one header back, or 204 for /empty. */
const echo = (req: LeanRequest): LeanResponse =>
  req.target === '/empty' ? { status: 204, headers: { 'X-Route-Target': 'app-a' } } : { status: 200, headers: { 'Content-Type': 'text/plain' }, body: `${req.target} ${req.headers.get('x-original-uri') ?? '-'}` };

describe('the lean HTTP/1.1 server of the router', () => {
  let server: Awaited<ReturnType<typeof serve>>;
  afterEach(() => server?.close());

  test('keeps a connection open, answers pipelined requests in order, async ones included', async () => {
    // GIVEN a handler that answers /slow later than the requests behind it
    server = await serve((req) => (req.target === '/slow' ? new Promise((resolve) => setTimeout(() => resolve({ status: 200, body: 'slow' }), 50)) : echo(req)));
    // WHEN three requests arrive in one write
    const { text, closed } = await exchange(server.port, 'GET /slow HTTP/1.1\r\nHost: r\r\n\r\nGET /a HTTP/1.1\r\nX-Original-URI: /x?y=1\r\n\r\nGET /empty HTTP/1.1\r\n\r\n');
    // THEN they are answered in order, on the connection, which stays open
    expect(statuses(text)).toEqual([200, 200, 204]);
    expect(text.indexOf('slow')).toBeLessThan(text.indexOf('/a /x?y=1'));
    expect(closed).toBe(false);
  });

  test('a 204 carries no body and no Content-Length; others carry their length, and a Date', async () => {
    server = await serve(echo);
    const empty = await exchange(server.port, 'GET /empty HTTP/1.1\r\n\r\n');
    expect(empty.text).toMatch(/^HTTP\/1\.1 204 No Content\r\nDate: [A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT\r\nX-Route-Target: app-a\r\n\r\n$/);
    const full = await exchange(server.port, 'GET /a HTTP/1.1\r\n\r\n');
    expect(full.text).toMatch(/\r\nContent-Length: 4\r\n\r\n\/a -$/);
  });

  test('a HEAD request gets the headers and Content-Length of a GET, without the body', async () => {
    server = await serve(echo);
    // WHEN a HEAD and then a GET arrive on one connection THEN the GET's answer follows the HEAD's headers directly
    const { text } = await exchange(server.port, 'HEAD /a HTTP/1.1\r\n\r\nGET /a HTTP/1.1\r\n\r\n');
    expect(statuses(text)).toEqual([200, 200]);
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*?Content-Length: 4\r\n\r\nHTTP\/1\.1 200 OK\r\n[^]*?\r\n\r\n\/a -$/);
  });

  test('Connection: close, and HTTP/1.0 without keep-alive, get Connection: close and a closed connection', async () => {
    server = await serve(echo);
    for (const request of ['GET /a HTTP/1.1\r\nConnection: close\r\n\r\n', 'GET /a HTTP/1.0\r\n\r\n']) {
      const { text, closed } = await exchange(server.port, request);
      expect([statuses(text), closed]).toEqual([[200], true]);
      expect(text).toContain('\r\nConnection: close\r\n');
    }
    // AND HTTP/1.0 with keep-alive stays open
    expect((await exchange(server.port, 'GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n')).closed).toBe(false);
  });

  test.each([
    ['a body (Content-Length)', 'POST /route HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello'],
    ['a chunked body', 'POST /route HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
    ['a folded header line', 'GET /route HTTP/1.1\r\nX-A: 1\r\n  continued\r\n\r\n'],
    ['a header name with a space', 'GET /route HTTP/1.1\r\nX A: 1\r\n\r\n'],
    ['a bare CR in a value', 'GET /route HTTP/1.1\r\nX-A: 1\r2\r\n\r\n'],
    ['a NUL in a value', 'GET /route HTTP/1.1\r\nX-A: 1\u00002\r\n\r\n'],
    ['a malformed request line', 'GET  /route HTTP/1.1\r\n\r\n'],
    ['another HTTP version', 'GET /route HTTP/2.0\r\n\r\n'],
  ])('refuses %s with 400 and closes, answering nothing behind it', async (_what, request) => {
    // GIVEN a handler that must not be called
    const handler = jest.fn(echo);
    server = await serve(handler);
    // WHEN the request is followed by a valid one on the same connection
    const { text, closed } = await exchange(server.port, `${request}GET /a HTTP/1.1\r\n\r\n`);
    // THEN one 400, the connection closed, and the handler never ran
    expect([statuses(text), closed]).toEqual([[400], true]);
    expect(handler).not.toHaveBeenCalled();
  });

  test('a header section over the limit gets 431 and a close', async () => {
    server = await serve(echo, { maxHeaderBytes: 1024 });
    const { text, closed } = await exchange(server.port, `GET /a HTTP/1.1\r\nX-Big: ${'x'.repeat(2000)}\r\n\r\n`);
    expect([statuses(text), closed]).toEqual([[431], true]);
    // AND one just under it is served
    expect(statuses((await exchange(server.port, `GET /a HTTP/1.1\r\nX-Big: ${'x'.repeat(900)}\r\n\r\n`)).text)).toEqual([200]);
  });

  test('a handler that throws or rejects gets 500; the connection goes on', async () => {
    server = await serve((req) => {
      if (req.target === '/throw') throw new Error('boom');
      if (req.target === '/reject') return Promise.reject(new Error('boom'));
      return echo(req);
    });
    const { text, closed } = await exchange(server.port, 'GET /throw HTTP/1.1\r\n\r\nGET /reject HTTP/1.1\r\n\r\nGET /a HTTP/1.1\r\n\r\n');
    expect([statuses(text), closed]).toEqual([[500, 500, 200], false]);
  });

  test('an idle connection is closed after the idle timeout', async () => {
    server = await serve(echo, { idleTimeoutMs: 100 });
    const { text, closed } = await exchange(server.port, 'GET /a HTTP/1.1\r\n\r\n', 1000);
    expect([statuses(text), closed]).toEqual([[200], true]);
  });

  test("node:http's client reads its answers, with repeated headers joined as node:http joins them", async () => {
    server = await serve((req) => ({ status: 200, body: `${req.headers.get('cookie')}|${req.headers.get('x-a')}` }));
    const socket = await exchange(server.port, 'GET / HTTP/1.1\r\nCookie: a=1\r\nCookie: b=2\r\nX-A: 1\r\nx-a:  2 \r\n\r\n');
    expect(socket.text.endsWith('a=1; b=2|1, 2')).toBe(true);
    const reply = await get(server.port, '/', { Cookie: 'c=3', 'X-A': 'über' });
    // Header bytes are latin1 both ways, as in node:http: a value round-trips.
    expect([reply.status, reply.body]).toEqual([200, 'c=3|über']);
  });
});

describe('parseRequestHead', () => {
  test('reads method, target, lower-case headers with trimmed values, and keep-alive', () => {
    const request = parseRequestHead('GET /route?x=1 HTTP/1.1\r\nHost: r\r\nX-Original-URI:  /a b \r\nConnection: Keep-Alive');
    expect(request).not.toBe(400);
    if (request === 400) return;
    expect([request.method, request.target, request.keepAlive]).toEqual(['GET', '/route?x=1', true]);
    expect([...request.headers]).toEqual([['host', 'r'], ['x-original-uri', '/a b'], ['connection', 'Keep-Alive']]);
  });
});
