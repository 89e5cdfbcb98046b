import type { RequestInput } from '../router/service/rules';
import { NginxNode, block, comment, directive, mapEntry, renderNginxConf } from './conf';

/**
 * Everything nginx.conf of the dynamic router depends on, as plain data. The construct fills it
 * from its props and in-cluster addresses; tests fill it with 127.0.0.1 ports and temp paths and
 * render it through the same function, so what they run is what the ConfigMap holds.
 */
export interface RoutingConfModel {
  /** `address:port` or `port` the public server listens on. */
  readonly listen: string;
  /** `address:port` or `port` of the probe server (`/healthz`), reachable by the kubelet. */
  readonly healthListen: string;
  /** `address:port` of the stub_status server: loopback only, for the exporter sidecar. */
  readonly statusListen: string;
  /** `host:port` of the router service. */
  readonly router: string;
  /** The allowlist: the router's answer must be one of these names. */
  readonly backends: readonly { readonly name: string; readonly address: string }[];
  /** Paths proxied straight to a backend, without asking the router. */
  readonly directRoutes: readonly { readonly pathPrefix: string; readonly backend: string }[];
  /** Header the router answers with, e.g. `X-Route-Target`. */
  readonly answerHeader: string;
  /** Router connect and read timeout, milliseconds. */
  readonly routerTimeoutMs: number;
  /** Backend connect timeout, milliseconds. */
  readonly backendConnectTimeoutMs: number;
  /** Backend read and send timeout, seconds. */
  readonly backendTimeoutSeconds: number;
  /** Idle keepalive connections each worker keeps per upstream. */
  readonly keepaliveConnections: number;
  readonly workerProcesses: number;
  readonly workerConnections: number;
  /** nginx `client_max_body_size`, e.g. `10m`. */
  readonly clientMaxBodySize: string;
  /** The request's headers and cookies the decision also depends on (besides method, host and URI). */
  readonly decisionInputs: readonly RequestInput[];
  /** Decision cache TTL in seconds; 0 turns the cache off. */
  readonly decisionCacheTtlSeconds: number;
  /** Writable paths (emptyDirs in the pod). */
  readonly paths: {
    readonly pidFile: string;
    /** Parent of the client body and proxy temp folders. */
    readonly tempDir: string;
    /** The decision cache folder. */
    readonly cacheDir: string;
  };
  /** Access log destination, or `off`. */
  readonly accessLog: string;
  /** Error log destination, e.g. `/dev/stderr`. */
  readonly errorLog: string;
}

/** Upstream name of an allowlisted backend; never equal to anything a router could make nginx resolve. */
export function backendUpstream(name: string): string {
  return `backend-${name}`;
}

/** The upstream a refused answer maps to: its only server is `down`, so nginx connects nowhere. */
export const REFUSED_UPSTREAM = 'route-refused';
const ROUTER_UPSTREAM = 'router';
const ROUTE_LOCATION = '/_platform_route';
const CACHE_ZONE = 'route_decisions';
/** What nginx tells the router of the request besides the decision inputs: header and value. */
const ORIGINAL_REQUEST: readonly (readonly [string, string])[] = [['X-Original-Host', '$host'], ['X-Original-URI', '$request_uri'], ['X-Original-Method', '$request_method']];
/** Headers nginx sets on the router subrequest itself (routerLocation; Host by default): no decision input may be one of them. */
export const ROUTER_REQUEST_HEADERS: readonly string[] = ['Host', 'Connection', 'Content-Length', ...ORIGINAL_REQUEST.map(([name]) => name)];
// nginx has a variable per cookie ($cookie_<name>) only for names made of these.
const VARIABLE_SAFE = /^[A-Za-z0-9_]+$/;

/** The nginx variable a decision input is read from: its header's, its cookie's, or the whole Cookie header for a name nginx has no variable for. */
function inputVariable(input: RequestInput): string {
  if ('header' in input) return `$http_${input.header.toLowerCase().replace(/-/g, '_')}`;
  return VARIABLE_SAFE.test(input.cookie) ? `$cookie_${input.cookie}` : '$http_cookie';
}

/** The decision cache's key: method, host and URI, then each input's variable. */
function decisionCacheKey(inputs: readonly RequestInput[]): string {
  const variables = ['$request_method', '$host$request_uri', ...inputs.map(inputVariable)].filter((v, i, all) => all.indexOf(v) === i);
  // Joined with a line break, which no part can hold (nginx refuses it in a request line and in a
  // header value): with '|', a client could shift a '|' from one part to the next and spell
  // another client's key with other inputs, and have its decision cached there.
  return variables.join('\n');
}

/**
 * The router subrequest's headers: the decision inputs as nginx read them, from the variables the
 * cache key holds, so the router decides on exactly what the key says. The client's own headers
 * are not passed: nginx and the router could read them differently (a header sent twice, a cookie
 * name in other letter case) and cache one client's decision under another's key.
 */
function inputHeaders(inputs: readonly RequestInput[]): NginxNode[] {
  const headers = new Map<string, readonly [string, string]>();
  for (const input of inputs) if ('header' in input) headers.set(input.header.toLowerCase(), [input.header, inputVariable(input)]);
  const cookies = [...new Set(inputs.flatMap((input) => ('cookie' in input ? [input.cookie] : [])))];
  if (cookies.length > 0 && !headers.has('cookie')) {
    const whole = cookies.some((name) => !VARIABLE_SAFE.test(name));
    headers.set('cookie', ['Cookie', whole ? '$http_cookie' : cookies.map((name) => `${name}=$cookie_${name}`).join('; ')]);
  }
  return [...headers.values()].map(([name, variable]) => directive('proxy_set_header', name, variable));
}

/** The router subrequest's attempts: upstream status, connect time, header time. */
const ROUTER_ATTEMPT = '$route_router_status|$route_router_connect_time|$route_router_header_time';

/**
 * The fail-closed statuses a client sees, with the `X-Route-Error` value that names the cause.
 * 401 and 403 from the router pass through unchanged.
 */
export const ROUTE_FAILURES = {
  targetNotAllowed: { status: 502, error: 'target-not-allowed', text: 'the router named a target outside the allowlist' },
  routerError: { status: 502, error: 'router-error', text: 'the router answered with an error' },
  routerUnavailable: { status: 503, error: 'router-unavailable', text: 'the router is unreachable' },
  routerTimeout: { status: 504, error: 'router-timeout', text: 'the router did not answer in time' },
  backendUnavailable: { status: 502, error: 'backend-unavailable', text: 'the backend is unreachable' },
} as const;

/** `X-Route-Target` -> `$upstream_http_x_route_target` (the subrequest's response header only). */
function upstreamHeaderVariable(header: string): string {
  return `$upstream_http_${header.toLowerCase().replace(/-/g, '_')}`;
}

function proxyKeepalive(): NginxNode[] {
  return [directive('proxy_http_version', '1.1'), directive('proxy_set_header', 'Connection', '')];
}

/** Headers every proxied request to a backend carries; the answer header is cleared. */
function backendHeaders(model: RoutingConfModel): NginxNode[] {
  return [
    ...proxyKeepalive(),
    directive('proxy_set_header', 'Host', '$host'),
    directive('proxy_set_header', 'X-Real-IP', '$remote_addr'),
    directive('proxy_set_header', 'X-Forwarded-For', '$proxy_add_x_forwarded_for'),
    directive('proxy_set_header', 'X-Forwarded-Proto', '$scheme'),
    // A client copy of the answer header never reaches a backend.
    directive('proxy_set_header', model.answerHeader, ''),
    directive('proxy_connect_timeout', `${model.backendConnectTimeoutMs}ms`),
    directive('proxy_send_timeout', `${model.backendTimeoutSeconds}s`),
    directive('proxy_read_timeout', `${model.backendTimeoutSeconds}s`),
  ];
}

function failure(kind: keyof typeof ROUTE_FAILURES): NginxNode[] {
  const f = ROUTE_FAILURES[kind];
  return [directive('add_header', 'X-Route-Error', f.error, 'always'), directive('return', f.status, `${f.text}\n`)];
}

function upstreams(model: RoutingConfModel): NginxNode[] {
  return [
    comment('Upstream names need no resolver: nginx resolves them once, at start, through the system\nresolver (the pod\'s resolv.conf). Nothing the router answers is ever resolved.'),
    block('upstream', [ROUTER_UPSTREAM], [directive('server', model.router), directive('keepalive', model.keepaliveConnections)]),
    ...model.backends.map((b) =>
      block('upstream', [backendUpstream(b.name)], [
        directive('server', b.address),
        directive('keepalive', model.keepaliveConnections),
        // Below common server idle timeouts (Node.js: 5 s), so nginx closes an idle connection first.
        directive('keepalive_timeout', '4s'),
      ]),
    ),
    comment('Any answer outside the allowlist lands here: a single server marked down, so nginx fails\nwith 502 without opening a connection.'),
    block('upstream', [REFUSED_UPSTREAM], [directive('server', '127.0.0.1:9', 'down')]),
  ];
}

function maps(model: RoutingConfModel): NginxNode[] {
  return [
    comment('The allowlist. `if` cannot see auth_request_set variables (it runs before the access phase);\na map is evaluated lazily, when proxy_pass reads it, after the router answered.'),
    block('map', ['$route_target', '$route_upstream'], [
      mapEntry('default', REFUSED_UPSTREAM),
      ...model.backends.map((b) => mapEntry(b.name, backendUpstream(b.name))),
    ]),
    comment('Why the router subrequest failed, from its last attempt (nginx lists one value per attempt):\nstatus | connect time | header time, "-" where that step never happened. A router that answered\n(any status, 502 and 504 included) is a router error; no connection at all is unavailable; a\ntimeout before an answer is a timeout; a connection without a readable answer (reset, an oversized\nor malformed header) is a router error.'),
    block('map', [ROUTER_ATTEMPT, '$route_router_failure'], [
      mapEntry('default', 'error'),
      mapEntry('~[|](.*\\s)?[0-9.]+$', 'error'),
      mapEntry('~(^|\\s)504[|]', 'timeout'),
      mapEntry('~(^|\\s)502[|](.*\\s)?-[|]', 'unavailable'),
    ]),
  ];
}

function routerLocation(model: RoutingConfModel): NginxNode {
  const cached = model.decisionCacheTtlSeconds > 0;
  return block('location', ['=', ROUTE_LOCATION], [
    directive('internal'),
    directive('proxy_pass', `http://${ROUTER_UPSTREAM}/route`),
    directive('proxy_method', 'GET'),
    directive('proxy_pass_request_body', 'off'),
    directive('proxy_set_header', 'Content-Length', ''),
    ...proxyKeepalive(),
    ...ORIGINAL_REQUEST.map(([name, value]) => directive('proxy_set_header', name, value)),
    // None of the client's headers: the router never sees a client's copy of its own answer
    // header, and decides only on the inputs nginx read (inputHeaders).
    directive('proxy_pass_request_headers', 'off'),
    ...inputHeaders(model.decisionInputs),
    directive('proxy_connect_timeout', `${model.routerTimeoutMs}ms`),
    directive('proxy_send_timeout', `${model.routerTimeoutMs}ms`),
    directive('proxy_read_timeout', `${model.routerTimeoutMs}ms`),
    // Retry only a connection error (a keepalive connection the router just closed), never a
    // timeout, and within the same time budget: a client gets its answer within the timeout.
    directive('proxy_next_upstream', 'error'),
    directive('proxy_next_upstream_timeout', `${model.routerTimeoutMs}ms`),
    ...(cached
      ? [
          comment('Decision cache: one router round trip per key and TTL. Keyed by method, host, URI and the\nrequest fields the rules read; the router marks random decisions no-store.'),
          directive('proxy_cache', CACHE_ZONE),
          directive('proxy_cache_key', decisionCacheKey(model.decisionInputs)),
          directive('proxy_cache_valid', '200', '204', `${model.decisionCacheTtlSeconds}s`),
          // Keeps cache files open: a hit costs one pread instead of open+fstat+pread+close. The file
          // cache checks the inode on every use, so a refreshed entry is never read from an old file.
          directive('open_file_cache', 'max=4096', 'inactive=60s'),
          // An expired entry is refreshed by the first request after it, which waits for the
          // router; only requests arriving during that round trip still use the old entry. No
          // background update: it hands the first request the expired entry, however old (a key
          // idle for minutes would get a decision minutes old). Never stale on errors: a router
          // failure is not hidden.
          directive('proxy_cache_use_stale', 'updating'),
          directive('proxy_cache_lock', 'on'),
          directive('proxy_cache_lock_timeout', `${model.routerTimeoutMs}ms`),
        ]
      : []),
  ]);
}

function routedLocation(model: RoutingConfModel): NginxNode {
  return block('location', ['/'], [
    directive('auth_request', ROUTE_LOCATION),
    comment('Read only from the router subrequest\'s response: a client header of the same name is\n$http_*, never $upstream_http_*.'),
    directive('auth_request_set', '$route_target', upstreamHeaderVariable(model.answerHeader)),
    directive('auth_request_set', '$route_router_status', '$upstream_status'),
    directive('auth_request_set', '$route_router_connect_time', '$upstream_connect_time'),
    directive('auth_request_set', '$route_router_header_time', '$upstream_header_time'),
    directive('auth_request_set', '$route_cache', '$upstream_cache_status'),
    comment('auth_request turns every router failure except 401/403 into 500: name the cause instead.'),
    directive('error_page', 500, '=', '@router_failed'),
    directive('error_page', 502, '=', '@bad_gateway'),
    directive('proxy_pass', 'http://$route_upstream'),
    ...backendHeaders(model),
  ]);
}

function directLocations(model: RoutingConfModel): NginxNode[] {
  return model.directRoutes.map((route) =>
    block('location', ['^~', route.pathPrefix], [directive('proxy_pass', `http://${backendUpstream(route.backend)}`), ...backendHeaders(model)]),
  );
}

function failureLocations(): NginxNode[] {
  return [
    block('location', ['@router_failed'], [
      directive('default_type', 'text/plain'),
      block('if', ['$route_router_failure', '=', 'timeout'], failure('routerTimeout')),
      block('if', ['$route_router_failure', '=', 'unavailable'], failure('routerUnavailable')),
      ...failure('routerError'),
    ]),
    block('location', ['@bad_gateway'], [
      directive('default_type', 'text/plain'),
      block('if', ['$route_upstream', '=', REFUSED_UPSTREAM], failure('targetNotAllowed')),
      ...failure('backendUnavailable'),
    ]),
  ];
}

/** The nginx.conf tree of the model. */
export function routingConfNodes(model: RoutingConfModel): NginxNode[] {
  const tempDir = model.paths.tempDir;
  return [
    comment('Generated by cdk8s-platform-stack (lib/nginx): do not edit; change the Nginx construct props.'),
    directive('worker_processes', model.workerProcesses),
    directive('pid', model.paths.pidFile),
    directive('error_log', model.errorLog, 'warn'),
    block('events', [], [directive('worker_connections', model.workerConnections)]),
    block('http', [], [
      directive('default_type', 'application/octet-stream'),
      directive('server_tokens', 'off'),
      directive('keepalive_timeout', '65s'),
      directive('client_max_body_size', model.clientMaxBodySize),
      // The read-only root filesystem: every path nginx writes is under an emptyDir.
      directive('client_body_temp_path', `${tempDir}/client_body`),
      directive('proxy_temp_path', `${tempDir}/proxy`),
      directive('fastcgi_temp_path', `${tempDir}/fastcgi`),
      directive('uwsgi_temp_path', `${tempDir}/uwsgi`),
      directive('scgi_temp_path', `${tempDir}/scgi`),
      directive('log_format', 'routed', '$remote_addr [$time_local] "$request" $status $body_bytes_sent $request_time target="$route_target" upstream=$upstream_addr router_status=$route_router_status decision_cache=$route_cache'),
      directive('access_log', ...(model.accessLog === 'off' ? ['off'] : [model.accessLog, 'routed'])),
      model.decisionCacheTtlSeconds > 0 &&
        directive('proxy_cache_path', model.paths.cacheDir, 'levels=1:2', `keys_zone=${CACHE_ZONE}:1m`, 'max_size=16m', 'inactive=10m', 'use_temp_path=off'),
      ...upstreams(model),
      ...maps(model),
      block('server', [], [
        directive('listen', model.listen, 'default_server'),
        directive('server_name', '_'),
        routerLocation(model),
        ...directLocations(model),
        routedLocation(model),
        ...failureLocations(),
      ]),
      block('server', [], [
        comment('Probes: on their own port, so no path of the routed server is taken.'),
        directive('listen', model.healthListen),
        directive('access_log', 'off'),
        block('location', ['=', '/healthz'], [directive('default_type', 'text/plain'), directive('return', 200, 'ok\n')]),
        block('location', ['/'], [directive('return', 404)]),
      ]),
      block('server', [], [
        comment('stub_status for the exporter sidecar, on loopback only.'),
        directive('listen', model.statusListen),
        directive('access_log', 'off'),
        block('location', ['=', '/stub_status'], [directive('stub_status')]),
        block('location', ['/'], [directive('return', 404)]),
      ]),
    ]),
  ];
}

/** nginx.conf of the model, as the ConfigMap holds it. */
export function renderRoutingConf(model: RoutingConfModel): string {
  return renderNginxConf(routingConfNodes(model));
}
