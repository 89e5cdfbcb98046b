/**
 * Routing rules: the config (rules.json) and its validation, the strategies, and the decision for
 * one request. The Router construct loads this module at synth to check rules; the service
 * (main.ts) loads it to decide. Node built-ins only, erasable TypeScript only: it runs as is on
 * the official Node image (Node >= 23.6 strips the types) and through the repository's tooling.
 */
import type { RedisClient, RedisConfig, RespValue } from './redis.ts';
import { normalizePath, utf8Segment } from './path.ts';

export type { RedisConfig } from './redis.ts';

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
export const HEADER_NAME = /^[A-Za-z0-9-]{1,100}$/;
export const COOKIE_NAME = /^[A-Za-z0-9_.-]{1,100}$/;
// No `%`: a prefix is compared with the decoded path.
const PATH_PREFIX = /^\/[A-Za-z0-9\-._~/!$&'()*+,;=:@]*$/;
const HOST_NAME = /^[A-Za-z0-9.-]{1,253}$/;

// ---------------------------------------------------------------------------------------------
// Requests and decisions

/** What the router knows about the client request NGINX is asking about. */
export interface RouteRequest {
  readonly method: string;
  readonly host: string;
  /** Path and query, as the client sent them (NGINX's `$request_uri`). */
  readonly uri: string;
  /** The path as NGINX and the backend resolve it (`normalizePath`): what rules decide on. */
  readonly path: string;
  /** Header values by lower-case name. */
  header(name: string): string | undefined;
  cookie(name: string): string | undefined;
}

export type Decision =
  | { readonly target: string; readonly cacheable: boolean }
  | { readonly refuse: 401 | 403 };

export const ERROR_REASONS = ['no_rule', 'invalid_request', 'invalid_params', 'redis_unavailable', 'internal'] as const;
export type ErrorReason = (typeof ERROR_REASONS)[number];

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
  /**
   * Request fields the decision depends on, besides method, host and URI: NGINX keys its decision
   * cache by them and sends the router these alone, so `decide` sees no header or cookie not listed.
   */
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

/** A prefix rules compare with the normalized path: so it must be normalized itself. */
function pathPrefix(check: Checker, prop: string, value: unknown): string | undefined {
  if (typeof value === 'string' && PATH_PREFIX.test(value) && normalizePath(value) === value) return value;
  check.fail(prop, value, "a path starting with '/', without %-escapes, '.' or '..' segments or '//' (rules match the path as NGINX resolves it)");
  return undefined;
}

/**
 * A rule's key from the request; an empty one is no key. NGINX's decision cache cannot tell an
 * absent header or cookie from an empty one (both are "" in its key), so neither may the decision.
 */
function keyOf(request: RouteRequest, source: KeySource): string | undefined {
  if (source.header) return request.header(source.header.toLowerCase()) || undefined;
  if (source.cookie) return request.cookie(source.cookie) || undefined;
  // The path is already decoded: decoding again would make `%2541` the key `A`.
  const segment = request.path.split('/').filter((s) => s !== '')[source.pathSegment ?? 0];
  // A segment that is not UTF-8 is no key, so no match.
  return segment === undefined ? undefined : utf8Segment(segment);
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
    const prefix = pathPrefix(check, `${prop}.prefix`, o.prefix);
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

/** Weighted parameters as parsed: the positive weights and their sum, computed once at start, not per request. */
interface WeightedSplit extends WeightedParams {
  readonly entries: readonly (readonly [string, number])[];
  readonly total: number;
}

registerStrategy<WeightedSplit>({
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
    const entries = Object.entries(weights as Record<string, number>).filter(([, w]) => w > 0);
    return { weights: weights as Record<string, number>, stickyBy, entries, total };
  },
  decide(request, p, context) {
    const { entries, total } = p;
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
    if (key === undefined) return undefined;
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
    const prefix = pathPrefix(check, `${prop}.prefix`, o.prefix);
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
    const r = check.object('redis', o.redis, ['host', 'port', 'username', 'passwordFile', 'timeoutMs']);
    if (r) {
      const host = check.string('redis.host', r.host, HOST_NAME, 'a host name');
      const port = check.integer('redis.port', r.port, 1, 65535);
      const timeoutMs = check.integer('redis.timeoutMs', r.timeoutMs, 1, 60_000);
      const passwordFile = r.passwordFile === undefined ? undefined : check.string('redis.passwordFile', r.passwordFile, /^\/\S+$/, 'an absolute path');
      const username = r.username === undefined ? undefined : check.string('redis.username', r.username, /^[\x21-\x7e]{1,64}$/, 'a Redis user name (printable ASCII without spaces)');
      if (username !== undefined && passwordFile === undefined) check.fail('redis.username', username, 'given together with redis.passwordFile');
      if (host !== undefined && port !== undefined && timeoutMs !== undefined) redis = { host, port, timeoutMs, username, passwordFile };
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

/** Request headers by lower-case name, as node:http gives them (`joinDuplicateHeaders`: one string each). */
export type RequestHeaders = Readonly<Record<string, string | string[] | undefined>>;

/**
 * The request NGINX asks about, from the headers of its subrequest; undefined when its URI has a
 * path NGINX itself refuses (see normalizePath), so nothing is decided on it.
 */
export function routeRequestFrom(headers: RequestHeaders): RouteRequest | undefined {
  const single = (name: string): string | undefined => {
    const value = headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  };
  const uri = single('x-original-uri') ?? '/';
  const path = normalizePath(uri);
  if (path === undefined) return undefined;
  let cookies: Map<string, string> | undefined;
  return {
    method: single('x-original-method') ?? 'GET',
    host: single('x-original-host') ?? '',
    uri,
    path,
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

export function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
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
