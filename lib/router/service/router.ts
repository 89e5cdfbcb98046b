/**
 * The router service: NGINX asks it, per request, which backend to use (`GET /route`, answered
 * `204` with `X-Route-Target: <backend name>`). Rules are tried in order; each names a strategy,
 * registered by name, with typed JSON parameters validated before the router serves anything.
 *
 * Runs as is on the official Node image (Node >= 23.6 strips TypeScript types): this one file uses
 * only erasable TypeScript syntax (no enums, namespaces or parameter properties), only `node:`
 * built-ins, and no CommonJS globals, so it loads as an ES module (`router.mts` in the pod) as well
 * as through the repository's CommonJS tooling (tests, synth-time validation).
 *
 *   node router.mts --config rules.json [--port 8080] [--host 0.0.0.0] [--drain-ms 5000] [--check]
 */
import * as fs from 'node:fs';
import * as net from 'node:net';

// ---------------------------------------------------------------------------------------------
// Config

/** Where the router finds Redis, for the `redisLookup` strategy. */
export interface RedisConfig {
  readonly host: string;
  readonly port: number;
  /** File holding the password (a mounted Secret key); read at every (re)connect. */
  readonly passwordFile?: string;
  /** Per-command timeout: a decision fails with redis_unavailable after it. */
  readonly timeoutMs: number;
}

/** One routing rule: a strategy name and its parameters. */
export interface RuleConfig {
  readonly strategy: string;
  readonly params: unknown;
}

/** rules.json: what the router construct renders into its ConfigMap. */
export interface RouterConfig {
  /** Backend names the router may answer: NGINX's allowlist. */
  readonly targets: readonly string[];
  /** Tried in order; the first that decides wins. */
  readonly rules: readonly RuleConfig[];
  /** Answer when no rule decides; without one, the router answers 404 (no_rule). */
  readonly defaultTarget?: string;
  readonly redis?: RedisConfig;
}

/** A prop that is not what it must be, phrased like the constructs' validation errors. */
export interface ConfigProblem {
  readonly prop: string;
  readonly value: unknown;
  readonly allowed: string;
}

/** Renders a value the way a user wrote it. */
function show(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (value === undefined) return 'undefined';
  return JSON.stringify(value) ?? String(value);
}

export function formatProblem(p: ConfigProblem): string {
  return `${p.prop} must be ${p.allowed}, got ${show(p.value)}`;
}

/** Collects problems while parsing untyped JSON into typed parameters. */
export class Checker {
  readonly problems: ConfigProblem[] = [];

  fail(prop: string, value: unknown, allowed: string): void {
    this.problems.push({ prop, value, allowed });
  }

  object(prop: string, value: unknown, keys: readonly string[]): Record<string, unknown> | undefined {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.fail(prop, value, 'an object');
      return undefined;
    }
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (!keys.includes(key)) this.fail(`${prop}.${key}`, record[key], `absent (known keys: ${keys.join(', ')})`);
    }
    return record;
  }

  string(prop: string, value: unknown, pattern: RegExp, allowed: string): string | undefined {
    if (typeof value === 'string' && pattern.test(value)) return value;
    this.fail(prop, value, allowed);
    return undefined;
  }

  integer(prop: string, value: unknown, min: number, max: number): number | undefined {
    if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value;
    this.fail(prop, value, `an integer from ${min} to ${max}`);
    return undefined;
  }

  target(prop: string, value: unknown, targets: readonly string[]): string | undefined {
    if (typeof value === 'string' && targets.includes(value)) return value;
    this.fail(prop, value, `one of the targets (${targets.join('|')})`);
    return undefined;
  }
}

const TARGET_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const HEADER_NAME = /^[A-Za-z0-9-]{1,100}$/;
const COOKIE_NAME = /^[A-Za-z0-9_.-]{1,100}$/;
const PATH_PREFIX = /^\/[A-Za-z0-9\-._~/%!$&'()*+,;=:@]*$/;
const HOST_NAME = /^[A-Za-z0-9.-]{1,253}$/;

// ---------------------------------------------------------------------------------------------
// Requests and decisions

/** What the router knows about the client request NGINX is asking about. */
export interface RouteRequest {
  readonly method: string;
  readonly host: string;
  /** Path and query, as the client sent them. */
  readonly uri: string;
  readonly path: string;
  /** Header values by lower-case name. */
  header(name: string): string | undefined;
  cookie(name: string): string | undefined;
}

export type Decision =
  | { readonly target: string; readonly cacheable: boolean }
  | { readonly refuse: 401 | 403 };

/** Thrown by a strategy when it cannot decide; `reason` is a router_decision_errors_total label. */
export class DecisionError extends Error {
  readonly reason: 'invalid_params' | 'redis_unavailable' | 'internal';
  constructor(reason: 'invalid_params' | 'redis_unavailable' | 'internal', message: string) {
    super(message);
    this.reason = reason;
  }
}

/** What strategies may use besides the request. */
export interface StrategyContext {
  readonly targets: readonly string[];
  readonly redis?: RedisClient;
  readonly random: () => number;
}

/**
 * A strategy: `parse` turns untyped JSON parameters into typed ones (reporting every problem),
 * `decide` answers for one request, or returns undefined to let the next rule decide.
 */
export interface Strategy<P> {
  readonly name: string;
  readonly parse: (params: unknown, check: Checker, prop: string, config: { readonly targets: readonly string[]; readonly hasRedis: boolean }) => P | undefined;
  readonly decide: (request: RouteRequest, params: P, context: StrategyContext) => Decision | undefined | Promise<Decision | undefined>;
  /** Request fields the decision depends on, besides method, host and URI (for decision caches). */
  readonly inputs: (params: P) => readonly RequestInput[];
}

/** A request header or cookie a rule reads. */
export type RequestInput = { readonly header: string } | { readonly cookie: string };

const strategies = new Map<string, Strategy<unknown>>();

/** Registers a strategy under its name; rules refer to it by that name. */
export function registerStrategy<P>(strategy: Strategy<P>): void {
  if (strategies.has(strategy.name)) throw new Error(`strategy ${strategy.name} is already registered`);
  strategies.set(strategy.name, strategy as Strategy<unknown>);
}

export function strategyNames(): string[] {
  return [...strategies.keys()];
}

/** The source of a key: a header, a cookie, or a path segment (0 is the first after `/`). */
export interface KeySource {
  readonly header?: string;
  readonly cookie?: string;
  readonly pathSegment?: number;
}

function parseKeySource(value: unknown, check: Checker, prop: string): KeySource | undefined {
  const o = check.object(prop, value, ['header', 'cookie', 'pathSegment']);
  if (!o) return undefined;
  const given = ['header', 'cookie', 'pathSegment'].filter((k) => o[k] !== undefined);
  if (given.length !== 1) {
    check.fail(prop, value, 'exactly one of header, cookie, pathSegment');
    return undefined;
  }
  if (o.header !== undefined) return { header: check.string(`${prop}.header`, o.header, HEADER_NAME, 'an HTTP header name') };
  if (o.cookie !== undefined) return { cookie: check.string(`${prop}.cookie`, o.cookie, COOKIE_NAME, 'a cookie name') };
  return { pathSegment: check.integer(`${prop}.pathSegment`, o.pathSegment, 0, 32) };
}

function keyOf(request: RouteRequest, source: KeySource): string | undefined {
  if (source.header) return request.header(source.header.toLowerCase());
  if (source.cookie) return request.cookie(source.cookie);
  const segment = request.path.split('/').filter((s) => s !== '')[source.pathSegment ?? 0];
  if (segment === undefined) return undefined;
  try {
    return decodeURIComponent(segment);
  } catch {
    // A malformed escape is the client's error, not the router's: no key, so no match.
    return undefined;
  }
}

function keyInputs(source: KeySource | undefined): RequestInput[] {
  if (source?.header) return [{ header: source.header }];
  if (source?.cookie) return [{ cookie: source.cookie }];
  return [];
}

/** 32-bit FNV-1a: a stable hash, the same in every router replica. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

export interface PathPrefixParams {
  readonly prefix: string;
  readonly target: string;
}

export interface MatchParams {
  /** Header (for `header`) or cookie (for `cookie`) name. */
  readonly name: string;
  readonly value: string;
  readonly target: string;
}

export interface WeightedParams {
  /** Integer weights by target; the share of a target is its weight over the sum. */
  readonly weights: Readonly<Record<string, number>>;
  /** Hash this key to pick a target (the same key always gets the same one); random per request without it or when it is absent. */
  readonly stickyBy?: KeySource;
}

export interface RedisLookupParams {
  /** Redis key = keyPrefix + the request's key. */
  readonly keyPrefix: string;
  readonly key: KeySource;
}

export interface RefuseParams {
  readonly prefix: string;
  readonly status: 401 | 403;
}

registerStrategy<PathPrefixParams>({
  name: 'pathPrefix',
  parse(params, check, prop, config) {
    const o = check.object(prop, params, ['prefix', 'target']);
    if (!o) return undefined;
    const prefix = check.string(`${prop}.prefix`, o.prefix, PATH_PREFIX, "a path starting with '/'");
    const target = check.target(`${prop}.target`, o.target, config.targets);
    return prefix !== undefined && target !== undefined ? { prefix, target } : undefined;
  },
  decide: (request, p) => (request.path.startsWith(p.prefix) ? { target: p.target, cacheable: true } : undefined),
  inputs: () => [],
});

function matchStrategy(name: 'header' | 'cookie'): Strategy<MatchParams> {
  return {
    name,
    parse(params, check, prop, config) {
      const o = check.object(prop, params, ['name', 'value', 'target']);
      if (!o) return undefined;
      const n = check.string(`${prop}.name`, o.name, name === 'header' ? HEADER_NAME : COOKIE_NAME, `a ${name} name`);
      const value = check.string(`${prop}.value`, o.value, /^[\x20-\x7e]{1,1000}$/, 'a printable ASCII string');
      const target = check.target(`${prop}.target`, o.target, config.targets);
      return n !== undefined && value !== undefined && target !== undefined ? { name: n, value, target } : undefined;
    },
    decide(request, p) {
      const actual = name === 'header' ? request.header(p.name.toLowerCase()) : request.cookie(p.name);
      return actual === p.value ? { target: p.target, cacheable: true } : undefined;
    },
    inputs: (p) => [name === 'header' ? { header: p.name } : { cookie: p.name }],
  };
}
registerStrategy(matchStrategy('header'));
registerStrategy(matchStrategy('cookie'));

registerStrategy<WeightedParams>({
  name: 'weighted',
  parse(params, check, prop, config) {
    const o = check.object(prop, params, ['weights', 'stickyBy']);
    if (!o) return undefined;
    const weights = check.object(`${prop}.weights`, o.weights, Object.keys(o.weights ?? {}));
    const stickyBy = o.stickyBy === undefined ? undefined : parseKeySource(o.stickyBy, check, `${prop}.stickyBy`);
    if (!weights) return undefined;
    let total = 0;
    for (const [target, weight] of Object.entries(weights)) {
      if (!config.targets.includes(target)) check.fail(`${prop}.weights`, target, `keyed by targets (${config.targets.join('|')})`);
      else total += check.integer(`${prop}.weights.${target}`, weight, 0, 1_000_000) ?? 0;
    }
    if (total === 0) check.fail(`${prop}.weights`, weights, 'at least one positive weight');
    if (o.stickyBy !== undefined && !stickyBy?.header && !stickyBy?.cookie) check.fail(`${prop}.stickyBy`, o.stickyBy, 'a header or a cookie');
    return { weights: weights as Record<string, number>, stickyBy };
  },
  decide(request, p, context) {
    const entries = Object.entries(p.weights).filter(([, w]) => w > 0);
    const total = entries.reduce((sum, [, w]) => sum + w, 0);
    const key = p.stickyBy ? keyOf(request, p.stickyBy) : undefined;
    // A sticky key maps to the same point of [0, total) in every replica; no key: a fresh draw,
    // which must not be cached (nginx keeps no-store answers out of its decision cache).
    let point = key !== undefined ? fnv1a(key) % total : Math.floor(context.random() * total);
    for (const [target, weight] of entries) {
      if (point < weight) return { target, cacheable: key !== undefined };
      point -= weight;
    }
    return { target: entries[entries.length - 1][0], cacheable: key !== undefined };
  },
  inputs: (p) => keyInputs(p.stickyBy),
});

registerStrategy<RedisLookupParams>({
  name: 'redisLookup',
  parse(params, check, prop, config) {
    const o = check.object(prop, params, ['keyPrefix', 'key']);
    if (!o) return undefined;
    if (!config.hasRedis) check.fail(prop.replace(/\.params$/, '.strategy'), 'redisLookup', 'used only when the router has a redis endpoint');
    const keyPrefix = check.string(`${prop}.keyPrefix`, o.keyPrefix, /^[\x21-\x7e]{0,200}$/, 'printable ASCII without spaces');
    const key = parseKeySource(o.key, check, `${prop}.key`);
    return keyPrefix !== undefined && key ? { keyPrefix, key } : undefined;
  },
  async decide(request, p, context) {
    const key = keyOf(request, p.key);
    if (key === undefined || key === '') return undefined;
    if (!context.redis) throw new DecisionError('internal', 'redisLookup without a redis client');
    let value: RespValue;
    try {
      value = await context.redis.command(['GET', p.keyPrefix + key]);
    } catch (error) {
      throw new DecisionError('redis_unavailable', (error as Error).message);
    }
    if (value === null) return undefined;
    const target = String(value);
    // The value is run-time data: it must still name an allowlisted target.
    if (!context.targets.includes(target)) throw new DecisionError('invalid_params', `redis key ${p.keyPrefix + key} names '${target}', not a target`);
    return { target, cacheable: true };
  },
  inputs: (p) => keyInputs(p.key),
});

registerStrategy<RefuseParams>({
  name: 'refuse',
  parse(params, check, prop) {
    const o = check.object(prop, params, ['prefix', 'status']);
    if (!o) return undefined;
    const prefix = check.string(`${prop}.prefix`, o.prefix, PATH_PREFIX, "a path starting with '/'");
    if (o.status !== 401 && o.status !== 403) check.fail(`${prop}.status`, o.status, 'one of 401|403');
    return prefix !== undefined && (o.status === 401 || o.status === 403) ? { prefix, status: o.status } : undefined;
  },
  decide: (request, p) => (request.path.startsWith(p.prefix) ? { refuse: p.status } : undefined),
  inputs: () => [],
});

/** A rule after validation: its strategy and typed parameters. */
export interface ParsedRule {
  readonly strategy: Strategy<unknown>;
  readonly params: unknown;
}

export interface ParsedConfig {
  readonly config: RouterConfig;
  readonly rules: readonly ParsedRule[];
}

/** Validates rules.json; returns the typed config, or every problem found. */
export function parseRouterConfig(raw: unknown): { readonly parsed?: ParsedConfig; readonly problems: readonly ConfigProblem[] } {
  const check = new Checker();
  const o = check.object('config', raw, ['targets', 'rules', 'defaultTarget', 'redis']);
  if (!o) return { problems: check.problems };
  const targets: string[] = [];
  if (!Array.isArray(o.targets) || o.targets.length === 0) check.fail('targets', o.targets, 'a non-empty list of backend names');
  else {
    o.targets.forEach((t, i) => {
      const name = check.string(`targets[${i}]`, t, TARGET_NAME, 'a DNS label (lower-case letters, digits and -)');
      if (name !== undefined && targets.includes(name)) check.fail(`targets[${i}]`, t, 'unique');
      else if (name !== undefined) targets.push(name);
    });
  }
  let redis: RedisConfig | undefined;
  if (o.redis !== undefined) {
    const r = check.object('redis', o.redis, ['host', 'port', 'passwordFile', 'timeoutMs']);
    if (r) {
      const host = check.string('redis.host', r.host, HOST_NAME, 'a host name');
      const port = check.integer('redis.port', r.port, 1, 65535);
      const timeoutMs = check.integer('redis.timeoutMs', r.timeoutMs, 1, 60_000);
      const passwordFile = r.passwordFile === undefined ? undefined : check.string('redis.passwordFile', r.passwordFile, /^\/\S+$/, 'an absolute path');
      if (host !== undefined && port !== undefined && timeoutMs !== undefined) redis = { host, port, timeoutMs, passwordFile };
    }
  }
  const rules: ParsedRule[] = [];
  if (!Array.isArray(o.rules)) check.fail('rules', o.rules, 'a list of rules');
  else {
    o.rules.forEach((rule, i) => {
      const r = check.object(`rules[${i}]`, rule, ['strategy', 'params']);
      if (!r) return;
      const strategy = typeof r.strategy === 'string' ? strategies.get(r.strategy) : undefined;
      if (!strategy) {
        check.fail(`rules[${i}].strategy`, r.strategy, `one of ${strategyNames().join('|')}`);
        return;
      }
      const params = strategy.parse(r.params, check, `rules[${i}].params`, { targets, hasRedis: o.redis !== undefined });
      if (params !== undefined) rules.push({ strategy, params });
    });
  }
  if (o.defaultTarget !== undefined) check.target('defaultTarget', o.defaultTarget, targets);
  if (check.problems.length > 0) return { problems: check.problems };
  const config: RouterConfig = { targets, rules: o.rules as RuleConfig[], defaultTarget: o.defaultTarget as string | undefined, redis };
  return { parsed: { config, rules }, problems: [] };
}

/** Request headers and cookies the rules read: what a decision cache must key on. */
export function ruleInputs(parsed: ParsedConfig): RequestInput[] {
  const seen = new Set<string>();
  const inputs: RequestInput[] = [];
  for (const rule of parsed.rules) {
    for (const input of rule.strategy.inputs(rule.params)) {
      const id = 'header' in input ? `h:${input.header.toLowerCase()}` : `c:${input.cookie}`;
      if (!seen.has(id)) inputs.push(input);
      seen.add(id);
    }
  }
  return inputs;
}

// ---------------------------------------------------------------------------------------------
// Redis: a minimal RESP2 client (GET and AUTH are all the router needs)

export type RespValue = string | number | null | RespValue[];

interface PendingReply {
  readonly resolve: (value: RespValue) => void;
  readonly reject: (error: Error) => void;
}

/** Parses one RESP2 reply from `buffer` at `offset`; undefined when it is not complete yet. */
export function parseResp(buffer: Buffer, offset: number): { value: RespValue | Error; next: number } | undefined {
  const lineEnd = buffer.indexOf('\r\n', offset);
  if (lineEnd < 0) return undefined;
  const type = String.fromCharCode(buffer[offset]);
  const line = buffer.toString('utf8', offset + 1, lineEnd);
  const afterLine = lineEnd + 2;
  if (type === '+') return { value: line, next: afterLine };
  if (type === '-') return { value: new Error(line), next: afterLine };
  if (type === ':') return { value: Number(line), next: afterLine };
  if (type === '$') {
    const length = Number(line);
    if (length < 0) return { value: null, next: afterLine };
    if (buffer.length < afterLine + length + 2) return undefined;
    return { value: buffer.toString('utf8', afterLine, afterLine + length), next: afterLine + length + 2 };
  }
  if (type === '*') {
    const count = Number(line);
    if (count < 0) return { value: null, next: afterLine };
    const items: RespValue[] = [];
    let next = afterLine;
    for (let i = 0; i < count; i++) {
      const item = parseResp(buffer, next);
      if (!item) return undefined;
      if (item.value instanceof Error) return { value: item.value, next: item.next };
      items.push(item.value);
      next = item.next;
    }
    return { value: items, next };
  }
  throw new Error(`unexpected RESP type byte ${JSON.stringify(type)}`);
}

export function encodeCommand(args: readonly string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
}

/**
 * One pipelined connection; replies come back in command order. A timeout or a protocol error
 * drops the connection (its reply order is lost) and fails what was pending; the next command
 * reconnects, at most once per `retryDelayMs` while Redis is down, so an outage fails fast.
 */
export class RedisClient {
  private readonly config: RedisConfig;
  private socket: net.Socket | undefined;
  private pending: PendingReply[] = [];
  private buffer: Buffer = Buffer.alloc(0);
  private downUntil = 0;
  private readonly retryDelayMs = 200;

  constructor(config: RedisConfig) {
    this.config = config;
  }

  command(args: readonly string[]): Promise<RespValue> {
    if (Date.now() < this.downUntil) return Promise.reject(new Error(`redis ${this.config.host}:${this.config.port}: unavailable (recent connection failure)`));
    const socket = this.socket ?? this.connect();
    return new Promise<RespValue>((resolve, reject) => {
      const timer = setTimeout(() => this.fail(socket, new Error(`no answer within ${this.config.timeoutMs} ms`)), this.config.timeoutMs);
      this.pending.push({
        resolve: (v) => { clearTimeout(timer); resolve(v); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      });
      socket.write(encodeCommand(args));
    });
  }

  close(): void {
    if (this.socket) this.fail(this.socket, new Error('client closed'));
  }

  private connect(): net.Socket {
    const socket = net.connect({ host: this.config.host, port: this.config.port });
    socket.setNoDelay(true);
    this.socket = socket;
    this.buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => this.onData(socket, chunk));
    socket.on('error', (error) => this.fail(socket, error));
    socket.on('end', () => this.fail(socket, new Error('connection ended by redis')));
    socket.on('close', () => this.fail(socket, new Error('connection closed')));
    if (this.config.passwordFile) {
      // As the Redis construct reads the Secret: trailing newlines are not part of the password.
      const password = fs.readFileSync(this.config.passwordFile, 'utf8').replace(/[\r\n]+$/, '');
      // AUTH goes first on the wire; a refusal fails the connection and everything behind it.
      this.pending.push({ resolve: () => undefined, reject: () => undefined });
      socket.write(encodeCommand(['AUTH', password]));
    }
    return socket;
  }

  private onData(socket: net.Socket, chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    let offset = 0;
    try {
      for (;;) {
        const reply = parseResp(this.buffer, offset);
        if (!reply) break;
        offset = reply.next;
        const waiter = this.pending.shift();
        if (reply.value instanceof Error) {
          if (/^(NOAUTH|WRONGPASS|ERR AUTH|ERR invalid password)/.test(reply.value.message)) return this.fail(socket, reply.value);
          waiter?.reject(reply.value);
        } else waiter?.resolve(reply.value);
      }
    } catch (error) {
      return this.fail(socket, error as Error);
    }
    this.buffer = this.buffer.subarray(offset);
  }

  private fail(socket: net.Socket, error: Error): void {
    if (this.socket !== socket) return;
    this.socket = undefined;
    this.downUntil = Date.now() + this.retryDelayMs;
    socket.destroy();
    const pending = this.pending;
    this.pending = [];
    const reason = new Error(`redis ${this.config.host}:${this.config.port}: ${error.message}`);
    for (const waiter of pending) waiter.reject(reason);
  }
}

// ---------------------------------------------------------------------------------------------
// Metrics, in the Prometheus text format

function labelText(labels: Readonly<Record<string, string>>): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return pairs.length ? `{${pairs.join(',')}}` : '';
}

export const DECISION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25];
export const ERROR_REASONS = ['no_rule', 'invalid_params', 'redis_unavailable', 'internal'] as const;
export type ErrorReason = (typeof ERROR_REASONS)[number];

export class RouterMetrics {
  /** By strategy, then target. */
  private readonly decisions = new Map<string, Map<string, number>>();
  private readonly errors = new Map<string, number>(ERROR_REASONS.map((r) => [r, 0]));
  private readonly refusals = new Map<string, number>([['unauthorized', 0], ['forbidden', 0]]);
  private readonly durations = new Map<string, { buckets: number[]; sum: number; count: number }>();

  decided(strategy: string, target: string): void {
    // Hot path: no string is built; label text is built only when scraped.
    let byTarget = this.decisions.get(strategy);
    if (!byTarget) this.decisions.set(strategy, (byTarget = new Map()));
    byTarget.set(target, (byTarget.get(target) ?? 0) + 1);
  }

  failed(reason: ErrorReason): void {
    this.errors.set(reason, (this.errors.get(reason) ?? 0) + 1);
  }

  refused(status: 401 | 403): void {
    const reason = status === 401 ? 'unauthorized' : 'forbidden';
    this.refusals.set(reason, (this.refusals.get(reason) ?? 0) + 1);
  }

  observe(strategy: string, seconds: number): void {
    let series = this.durations.get(strategy);
    if (!series) {
      series = { buckets: DECISION_BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.durations.set(strategy, series);
    }
    DECISION_BUCKETS.forEach((le, i) => { if (seconds <= le) series.buckets[i]++; });
    series.sum += seconds;
    series.count++;
  }

  render(): string {
    const out: string[] = [];
    out.push('# HELP router_decisions_total Routing decisions, by the strategy that decided and the target it named.', '# TYPE router_decisions_total counter');
    for (const [strategy, byTarget] of this.decisions) {
      for (const [target, value] of byTarget) out.push(`router_decisions_total${labelText({ strategy, target })} ${value}`);
    }
    out.push('# HELP router_decision_errors_total Requests the router could not decide, by reason.', '# TYPE router_decision_errors_total counter');
    for (const [reason, value] of this.errors) out.push(`router_decision_errors_total${labelText({ reason })} ${value}`);
    out.push('# HELP router_refusals_total Requests the router answered 401 or 403.', '# TYPE router_refusals_total counter');
    for (const [reason, value] of this.refusals) out.push(`router_refusals_total${labelText({ reason })} ${value}`);
    out.push('# HELP router_decision_duration_seconds Time to decide one request, by the strategy that decided (none: no rule did).', '# TYPE router_decision_duration_seconds histogram');
    for (const [strategy, s] of this.durations) {
      DECISION_BUCKETS.forEach((le, i) => out.push(`router_decision_duration_seconds_bucket${labelText({ strategy, le: String(le) })} ${s.buckets[i]}`));
      out.push(`router_decision_duration_seconds_bucket${labelText({ strategy, le: '+Inf' })} ${s.count}`);
      out.push(`router_decision_duration_seconds_sum${labelText({ strategy })} ${s.sum}`);
      out.push(`router_decision_duration_seconds_count${labelText({ strategy })} ${s.count}`);
    }
    return `${out.join('\n')}\n`;
  }
}

// ---------------------------------------------------------------------------------------------
// A lean HTTP/1.1 server
//
// NGINX asks the router once per request, so the router's cost per request is the dynamic route's
// overhead. node:http spends about 50 µs of CPU on a request, many times the decision itself; the
// benchmark went from 0.5x to 0.8x of a direct proxy_pass with a server that does only what the
// router's clients need. They are NGINX (keep-alive GETs without a body), the kubelet's probes and
// Prometheus: so this server speaks that subset of HTTP/1.1 over node:net and refuses the rest
// with 400 and a close (bodies, folded or malformed headers, other versions), never guessing.

/** One request: method, target (path and query, as sent) and headers by lower-case name. */
export interface LeanRequest {
  readonly method: string;
  readonly target: string;
  /** Repeated headers are joined with ', ' (cookie: '; '), as node:http joins them. */
  readonly headers: ReadonlyMap<string, string>;
}

export interface LeanResponse {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

export type LeanHandler = (request: LeanRequest) => LeanResponse | Promise<LeanResponse>;

export interface LeanServer {
  readonly server: net.Server;
  /** Closes connections between requests now, and every other one after its current answer. */
  closeIdleConnections(): void;
  /** Destroys every connection. */
  closeAllConnections(): void;
}

const REASONS: Record<number, string> = {
  200: 'OK', 204: 'No Content', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found',
  431: 'Request Header Fields Too Large', 500: 'Internal Server Error', 503: 'Service Unavailable',
};
const REQUEST_LINE = /^([A-Z]{1,20}) ([\x21-\x7e]+) HTTP\/1\.([01])$/;

/** The request in `head` (the header section without its final CRLF CRLF), or the status refusing it. */
export function parseRequestHead(head: string): (LeanRequest & { readonly keepAlive: boolean }) | 400 {
  const lineEnd = head.indexOf('\r\n');
  const start = REQUEST_LINE.exec(lineEnd < 0 ? head : head.slice(0, lineEnd));
  if (!start) return 400;
  const headers = new Map<string, string>();
  // Each header line in turn, from the first to the end of the section: a line that does not match
  // (no colon, a name that is not a token, obsolete line folding, a stray CR or NUL) stops the scan short.
  const line = /\r\n([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*([^\r\n\0]*?)[ \t]*(?=\r\n|$)/y;
  line.lastIndex = lineEnd < 0 ? head.length : lineEnd;
  while (line.lastIndex < head.length) {
    const match = line.exec(head);
    if (!match) return 400;
    const name = match[1].toLowerCase();
    const previous = headers.get(name);
    headers.set(name, previous === undefined ? match[2] : `${previous}${name === 'cookie' ? '; ' : ', '}${match[2]}`);
  }
  // No request the router serves has a body; one it cannot frame is refused rather than guessed.
  const length = headers.get('content-length');
  if (headers.has('transfer-encoding') || (length !== undefined && length !== '0')) return 400;
  const connection = headers.get('connection')?.toLowerCase();
  const keepAlive = start[3] === '1' ? !connection?.includes('close') : connection?.includes('keep-alive') === true;
  return { method: start[1], target: start[2], headers, keepAlive };
}

let dateSecond = 0;
let dateHeader = '';

/** The response on the wire; to a HEAD request, without its body (its Content-Length stays). */
function responseBytes(response: LeanResponse, keepAlive: boolean, head: boolean): Buffer {
  const now = Date.now();
  if (now - dateSecond >= 1000) {
    dateSecond = now - (now % 1000);
    dateHeader = new Date(dateSecond).toUTCString();
  }
  let lines = `HTTP/1.1 ${response.status} ${REASONS[response.status] ?? 'Unknown'}\r\nDate: ${dateHeader}\r\n`;
  for (const [name, value] of Object.entries(response.headers ?? {})) lines += `${name}: ${value}\r\n`;
  const body = response.body ?? '';
  // 204 has no body and no Content-Length (RFC 9110 8.6).
  if (response.status !== 204) lines += `Content-Length: ${Buffer.byteLength(body)}\r\n`;
  if (!keepAlive) lines += 'Connection: close\r\n';
  return Buffer.from(`${lines}\r\n${response.status === 204 || head ? '' : body}`);
}

/**
 * Serves `handle` over HTTP/1.1 keep-alive connections: requests on a connection are answered in
 * order, one at a time (NGINX does not pipeline, but a client that does is answered correctly).
 * A header section over `maxHeaderBytes` gets 431, an idle connection closes after `idleTimeoutMs`.
 */
export function createLeanServer(handle: LeanHandler, options: { readonly maxHeaderBytes?: number; readonly idleTimeoutMs?: number } = {}): LeanServer {
  const maxHeaderBytes = options.maxHeaderBytes ?? 64 * 1024;
  const idleTimeoutMs = options.idleTimeoutMs ?? 65_000;
  const connections = new Map<net.Socket, { busy: boolean; lastActive: number }>();
  let closing = false;

  const server = net.createServer({ noDelay: true }, (socket) => {
    const state = { busy: false, lastActive: Date.now() };
    connections.set(socket, state);
    let pending = '';
    let open = true;
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      open = false;
      connections.delete(socket);
    });
    const send = (response: LeanResponse, keepAlive: boolean, head = false): void => {
      if (!open) return;
      const keep = keepAlive && !closing;
      socket.write(responseBytes(response, keep, head));
      if (!keep) {
        open = false;
        socket.end();
      }
    };
    const refuse = (status: 400 | 431): void => {
      pending = '';
      send({ status, headers: { 'Content-Type': 'text/plain' }, body: `${REASONS[status]}\n` }, false);
    };
    const serve = (): void => {
      while (open && !state.busy) {
        const end = pending.indexOf('\r\n\r\n');
        if (end < 0 || end > maxHeaderBytes) {
          if (pending.length > maxHeaderBytes) refuse(431);
          return;
        }
        const head = pending.slice(0, end);
        pending = pending.slice(end + 4);
        const request = parseRequestHead(head);
        if (request === 400) return refuse(400);
        let response: LeanResponse | Promise<LeanResponse>;
        try {
          response = handle(request);
        } catch {
          response = { status: 500 };
        }
        if (isPromise(response)) {
          state.busy = true;
          response.catch((): LeanResponse => ({ status: 500 })).then((r) => {
            state.busy = false;
            send(r, request.keepAlive, request.method === 'HEAD');
            serve();
          });
          return;
        }
        send(response, request.keepAlive, request.method === 'HEAD');
      }
    };
    socket.on('data', (chunk: Buffer) => {
      state.lastActive = Date.now();
      pending += chunk.toString('latin1');
      serve();
    });
  });
  // One timer for every connection's idle timeout: socket.setTimeout re-arms a timer on every read
  // and write, which cost more than parsing the request.
  const sweep = setInterval(() => {
    const idleSince = Date.now() - idleTimeoutMs;
    for (const [socket, state] of connections) if (!state.busy && state.lastActive <= idleSince) socket.destroy();
  }, Math.min(Math.max(idleTimeoutMs / 4, 10), 5000));
  sweep.unref();
  server.on('close', () => clearInterval(sweep));
  return {
    server,
    closeIdleConnections: () => {
      closing = true;
      for (const [socket, state] of connections) if (!state.busy) socket.end();
    },
    closeAllConnections: () => {
      for (const socket of connections.keys()) socket.destroy();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The decision and the HTTP server

function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) {
      const name = part.slice(0, eq).trim();
      if (!cookies.has(name)) cookies.set(name, part.slice(eq + 1).trim());
    }
  }
  return cookies;
}

/** The request NGINX asks about, from the headers of its subrequest (by lower-case name). */
export function routeRequestFrom(headers: ReadonlyMap<string, string>): RouteRequest {
  const single = (name: string): string | undefined => headers.get(name);
  const uri = single('x-original-uri') ?? '/';
  const query = uri.indexOf('?');
  let cookies: Map<string, string> | undefined;
  return {
    method: single('x-original-method') ?? 'GET',
    host: single('x-original-host') ?? '',
    uri,
    path: query < 0 ? uri : uri.slice(0, query),
    header: single,
    cookie: (name) => (cookies ??= parseCookies(single('cookie'))).get(name),
  };
}

/** The outcome of one decision, as the HTTP handler answers it. */
export type Outcome = { readonly decision: Decision; readonly strategy: string } | { readonly error: ErrorReason; readonly message: string };

function failure(error: unknown): Outcome {
  if (error instanceof DecisionError) return { error: error.reason, message: error.message };
  return { error: 'internal', message: (error as Error).message };
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as Promise<T> | undefined)?.then === 'function';
}

/**
 * Tries the rules in order from `first`; the first decision wins, else the default target, else
 * no_rule. Synchronous until a strategy returns a promise (Redis): most decisions allocate none.
 */
export function decide(parsed: ParsedConfig, request: RouteRequest, context: StrategyContext, first = 0): Outcome | Promise<Outcome> {
  const rules = parsed.rules;
  for (let i = first; i < rules.length; i++) {
    let result: Decision | undefined | Promise<Decision | undefined>;
    try {
      result = rules[i].strategy.decide(request, rules[i].params, context);
    } catch (error) {
      return failure(error);
    }
    if (isPromise(result)) {
      const name = rules[i].strategy.name;
      return result.then((decision) => (decision ? { decision, strategy: name } : decide(parsed, request, context, i + 1)), failure);
    }
    if (result) return { decision: result, strategy: rules[i].strategy.name };
  }
  if (parsed.config.defaultTarget) return { decision: { target: parsed.config.defaultTarget, cacheable: true }, strategy: 'default' };
  return { error: 'no_rule', message: `no rule decided ${request.method} ${request.host}${request.uri}` };
}

const ERROR_STATUS: Record<ErrorReason, number> = { no_rule: 404, invalid_params: 500, redis_unavailable: 503, internal: 500 };

export interface RouterServerOptions {
  /** Header the answer goes in. */
  readonly answerHeader?: string;
  readonly random?: () => number;
}

const NO_STORE = 'no-store';
const TEXT = { 'Content-Type': 'text/plain' };

/** The HTTP server: `/route`, `/healthz`, `/readyz`, `/metrics`. `draining` turns /readyz to 503. */
export function createRouterServer(parsed: ParsedConfig, options: RouterServerOptions = {}): LeanServer & { metrics: RouterMetrics; redis?: RedisClient; drain: () => void } {
  const metrics = new RouterMetrics();
  const redis = parsed.config.redis ? new RedisClient(parsed.config.redis) : undefined;
  const context: StrategyContext = { targets: parsed.config.targets, redis, random: options.random ?? Math.random };
  const answerHeader = options.answerHeader ?? 'X-Route-Target';
  let draining = false;

  const answer = (outcome: Outcome, started: number): LeanResponse => {
    const seconds = (performance.now() - started) / 1000;
    if ('error' in outcome) {
      metrics.failed(outcome.error);
      metrics.observe('none', seconds);
      if (outcome.error !== 'no_rule') console.error(`router: ${outcome.error}: ${outcome.message}`);
      return { status: ERROR_STATUS[outcome.error], headers: { 'X-Route-Error': outcome.error, 'Cache-Control': NO_STORE } };
    }
    metrics.observe(outcome.strategy, seconds);
    const d = outcome.decision;
    if ('refuse' in d) {
      metrics.refused(d.refuse);
      return { status: d.refuse, headers: d.refuse === 401 ? { 'Cache-Control': NO_STORE, 'WWW-Authenticate': 'Bearer' } : { 'Cache-Control': NO_STORE } };
    }
    metrics.decided(outcome.strategy, d.target);
    return { status: 204, headers: d.cacheable ? { [answerHeader]: d.target } : { [answerHeader]: d.target, 'Cache-Control': NO_STORE } };
  };

  // NGINX forwards the client's headers (up to its large_client_header_buffers): accept as much.
  // Idle connections outlive nginx's upstream keepalive_timeout (60 s): nginx closes them first.
  const lean = createLeanServer((req) => {
    const query = req.target.indexOf('?');
    const path = query < 0 ? req.target : req.target.slice(0, query);
    if (path === '/route') {
      const started = performance.now();
      const outcome = decide(parsed, routeRequestFrom(req.headers), context);
      return isPromise(outcome) ? outcome.then((o) => answer(o, started)) : answer(outcome, started);
    }
    if (path === '/healthz') return { status: 200, headers: TEXT, body: 'ok\n' };
    if (path === '/readyz') return { status: draining ? 503 : 200, headers: TEXT, body: draining ? 'draining\n' : 'ready\n' };
    if (path === '/metrics') return { status: 200, headers: { 'Content-Type': 'text/plain; version=0.0.4' }, body: metrics.render() };
    return { status: 404, headers: TEXT, body: 'not found\n' };
  }, { maxHeaderBytes: 64 * 1024, idleTimeoutMs: 65_000 });
  return { ...lean, metrics, redis, drain: () => { draining = true; } };
}

// ---------------------------------------------------------------------------------------------
// Command line

interface Args {
  readonly config: string;
  readonly port: number;
  readonly host: string;
  readonly drainMs: number;
  readonly check: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const value = (flag: string, fallback?: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : fallback;
  };
  const config = value('--config', process.env.ROUTER_CONFIG);
  if (!config) throw new Error('usage: router --config rules.json [--port 8080] [--host 0.0.0.0] [--drain-ms 5000] [--check]');
  return { config, port: Number(value('--port', '8080')), host: value('--host', '0.0.0.0') as string, drainMs: Number(value('--drain-ms', '5000')), check: argv.includes('--check') };
}

/** Loads and validates the config: exits with every problem listed, never a stack trace. */
function loadConfig(file: string): ParsedConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    console.error(`router: cannot read config ${file}: ${(error as Error).message}`);
    process.exit(2);
  }
  const { parsed, problems } = parseRouterConfig(raw);
  if (!parsed) {
    console.error(`router: invalid config ${file}:\n${problems.map((p) => `  - ${formatProblem(p)}`).join('\n')}`);
    process.exit(2);
  }
  return parsed;
}

export function main(argv: readonly string[] = process.argv.slice(2)): void {
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (error) {
    console.error((error as Error).message);
    process.exit(2);
  }
  const parsed = loadConfig(args.config);
  if (args.check) {
    process.stdout.write(`router: config ${args.config} is valid (${parsed.rules.length} rules, targets ${parsed.config.targets.join(', ')})\n`);
    return;
  }
  const router = createRouterServer(parsed);
  const { server, redis, drain } = router;
  server.listen(args.port, args.host, () => process.stdout.write(`router: listening on ${args.host}:${args.port} with ${parsed.rules.length} rules\n`));
  process.on('SIGTERM', () => {
    // Fail readiness first, so endpoints drop this pod before it stops answering.
    drain();
    setTimeout(() => {
      server.close(() => process.exit(0));
      router.closeIdleConnections();
      redis?.close();
    }, args.drainMs).unref();
  });
}

// Entry point when run as `node router.mts` (pod) or `node -r scripts/run-ts.js router.ts` (tests);
// importing the module (the construct validates rules at synth) starts nothing.
if (/(^|[\\/])router\.(m?ts|m?js|cjs)$/.test(process.argv[1] ?? '')) main();
