/**
 * The router's HTTP server, on node:http (llhttp parses every request): `GET /route` answers the
 * decision, `/healthz`, `/readyz` and `/metrics` the kubelet and Prometheus. Its limits bound what
 * any client can hold: header size, a deadline for a complete header, keep-alive and requests per
 * connection, and a connection cap. A client it refuses (400, 431, 408) gets one answer and is
 * disconnected: nothing more it sends is read.
 */
import * as http from 'node:http';
import type * as net from 'node:net';
import { RedisClient } from './redis.ts';
import { RouterMetrics } from './metrics.ts';
import type { KnownLabels } from './metrics.ts';
import { decide, isPromise, routeRequestFrom } from './rules.ts';
import type { ErrorReason, Outcome, ParsedConfig, StrategyContext } from './rules.ts';

/** The server's limits; lib/router/README.md says why each value. */
export interface ServerLimits {
  /**
   * Request line and headers, bytes; more gets 431 (and the client 502 router-error). NGINX takes at
   * most 4 x 8 KiB of client headers (large_client_header_buffers); 32 KiB per connection keeps a
   * full connection cap of partial headers within the pod's 128 MiB (test/router-abuse.test.ts).
   */
  readonly maxHeaderBytes: number;
  /** A complete request header within this, from the first byte (or the connection's start); else 408 and a close. */
  readonly headersTimeoutMs: number;
  /** A complete request within this. */
  readonly requestTimeoutMs: number;
  /** An idle keep-alive connection closes after this: longer than NGINX's upstream keepalive_timeout (60 s), so NGINX closes first. */
  readonly keepAliveTimeoutMs: number;
  /** The last answer on a connection says `Connection: close`: NGINX's keepalive_requests (1000) is the same. */
  readonly maxRequestsPerSocket: number;
  /** Connections beyond this are closed on accept. */
  readonly maxConnections: number;
  /** How often the header and request deadlines are checked (node's default, 30 s, would let them slip). */
  readonly checkIntervalMs: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  maxHeaderBytes: 32 * 1024,
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 65_000,
  maxRequestsPerSocket: 1000,
  maxConnections: 1000,
  checkIntervalMs: 1_000,
};

const ERROR_STATUS: Record<ErrorReason, number> = { no_rule: 404, invalid_request: 400, invalid_params: 500, redis_unavailable: 503, internal: 500 };

export interface RouterServerOptions {
  /** Header the answer goes in. */
  readonly answerHeader?: string;
  readonly random?: () => number;
  readonly limits?: Partial<ServerLimits>;
}

export interface RouterServer {
  readonly server: http.Server;
  readonly metrics: RouterMetrics;
  readonly redis?: RedisClient;
  /** Turns /readyz to 503: endpoints drop the pod while it still answers. */
  drain(): void;
}

const NO_STORE = 'no-store';
const TEXT = { 'Content-Type': 'text/plain' };

/** Answers a client llhttp or a deadline refused, once, and disconnects it without reading more. */
function refuseClient(error: NodeJS.ErrnoException, socket: net.Socket): void {
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  // Only where no answer was started: mid-answer, a status line would corrupt the stream.
  if (socket.writable && socket.bytesWritten === 0) socket.write(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  socket.destroy();
}

/** The strategy and target labels this config can produce: the router exports them at 0 from its start. */
function knownLabels(parsed: ParsedConfig): KnownLabels {
  const strategies = new Set(parsed.rules.map((r) => r.strategy.name));
  if (parsed.config.defaultTarget) strategies.add('default');
  return { strategies: [...strategies], targets: parsed.config.targets };
}

/** The HTTP server: `/route`, `/healthz`, `/readyz`, `/metrics`. */
export function createRouterServer(parsed: ParsedConfig, options: RouterServerOptions = {}): RouterServer {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const metrics = new RouterMetrics(knownLabels(parsed));
  const redis = parsed.config.redis ? new RedisClient(parsed.config.redis) : undefined;
  const context: StrategyContext = { targets: parsed.config.targets, redis, random: options.random ?? Math.random };
  const answerHeader = options.answerHeader ?? 'X-Route-Target';
  let draining = false;
  const requestsOn = new WeakMap<net.Socket, number>();

  const answer = (res: http.ServerResponse, outcome: Outcome, started: number): void => {
    const seconds = (performance.now() - started) / 1000;
    if ('error' in outcome) {
      metrics.failed(outcome.error);
      metrics.observe('none', seconds);
      if (outcome.error !== 'no_rule' && outcome.error !== 'invalid_request') console.error(`router: ${outcome.error}: ${outcome.message}`);
      res.writeHead(ERROR_STATUS[outcome.error], { 'X-Route-Error': outcome.error, 'Cache-Control': NO_STORE }).end();
      return;
    }
    metrics.observe(outcome.strategy, seconds);
    const d = outcome.decision;
    if ('refuse' in d) {
      metrics.refused(d.refuse);
      res.writeHead(d.refuse, d.refuse === 401 ? { 'Cache-Control': NO_STORE, 'WWW-Authenticate': 'Bearer' } : { 'Cache-Control': NO_STORE }).end();
      return;
    }
    metrics.decided(outcome.strategy, d.target);
    res.writeHead(204, d.cacheable ? { [answerHeader]: d.target } : { [answerHeader]: d.target, 'Cache-Control': NO_STORE }).end();
  };

  const server = http.createServer(
    {
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      connectionsCheckingInterval: limits.checkIntervalMs,
      joinDuplicateHeaders: true,
      noDelay: true,
    },
    (req, res) => {
      // node:http answers the last request of maxRequestsPerSocket `Connection: close` but leaves the
      // connection open (Node 20 to 24); the header set here makes it close after the answer.
      const served = (requestsOn.get(req.socket) ?? 0) + 1;
      requestsOn.set(req.socket, served);
      if (served >= limits.maxRequestsPerSocket) res.setHeader('Connection', 'close');
      const url = req.url ?? '/';
      const query = url.indexOf('?');
      const path = query < 0 ? url : url.slice(0, query);
      if (path === '/route') {
        const started = performance.now();
        const request = routeRequestFrom(req.headers);
        const outcome = request ? decide(parsed, request, context) : { error: 'invalid_request' as const, message: 'a path NGINX refuses' };
        if (isPromise(outcome)) outcome.then((o) => answer(res, o, started));
        else answer(res, outcome, started);
        return;
      }
      // No request the router serves has a body; one that has is not read (the connection closes after the answer).
      if (path === '/healthz') res.writeHead(200, TEXT).end('ok\n');
      else if (path === '/readyz') res.writeHead(draining ? 503 : 200, TEXT).end(draining ? 'draining\n' : 'ready\n');
      else if (path === '/metrics') res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' }).end(metrics.render());
      else res.writeHead(404, TEXT).end('not found\n');
    },
  );
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.maxRequestsPerSocket = limits.maxRequestsPerSocket;
  server.maxConnections = limits.maxConnections;
  server.on('clientError', refuseClient);
  return { server, metrics, redis, drain: () => { draining = true; } };
}
