// The router's Redis command timeout, against a Redis that accepts and never answers (a hung or
// partitioned server keeps the connection open; only a timer can end the wait). Killing Redis
// closes the connection, which fails the request without any timer: that case is tested elsewhere.
//
// Written against the router's external interface only, so it holds whatever the server is built
// on: the process `startRouter` (test/nginx/stack.ts) runs with `--config rules.json --port
// --host`, the rules.json schema (`redis: { host, port, timeoutMs }`, a `redisLookup` rule), and
// the HTTP contract of GET /route (503 with `X-Route-Error: redis_unavailable` when Redis fails).
import * as fs from 'fs';
import * as net from 'net';
import { freePort } from './support/engines';
import { get, sharedTempDir, startRouter } from './nginx/stack';

jest.setTimeout(20_000);

/** A TCP server on 127.0.0.1 that accepts connections and reads what it is sent, never answering. */
async function blackHole(): Promise<{ port: number; accepted: () => number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port,
    accepted: () => accepted,
    close: () => {
      sockets.forEach((socket) => socket.destroy());
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('router against a Redis that never answers', () => {
  test('a Redis lookup fails with 503 redis_unavailable after the configured 200 ms, instead of hanging', async () => {
    // GIVEN a router whose only rule asks Redis, with a 200 ms command timeout, and a "Redis" that
    // accepts and never answers
    const hole = await blackHole();
    const dir = sharedTempDir('router-redis-timeout');
    const rules = {
      targets: ['app-a', 'app-b'],
      rules: [{ strategy: 'redisLookup', params: { keyPrefix: 'tenant:', key: { pathSegment: 0 } } }],
      redis: { host: '127.0.0.1', port: hole.port, timeoutMs: 200 },
    };
    const router = await startRouter(JSON.stringify(rules), dir);
    try {
      // WHEN a request asks it for a decision
      const reply = await get(router.port, '/route', { 'X-Original-URI': '/acme/orders' }, 5_000);
      // THEN it fails closed as Redis down, after about the timeout: not before it, and far sooner
      // than the 5 s after which this client gives up on a hanging request
      expect([reply.status, reply.headers['x-route-error']]).toEqual([503, 'redis_unavailable']);
      expect(reply.ms).toBeGreaterThanOrEqual(190);
      expect(reply.ms).toBeLessThan(1_000);
      // AND the router did reach the black hole (the timeout, not a refused connection, ended it)
      expect(hole.accepted()).toBeGreaterThanOrEqual(1);
    } finally {
      await router.stop();
      await hole.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
