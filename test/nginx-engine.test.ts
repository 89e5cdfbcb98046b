// Real nginx (Debian nginx-light) with the generated config, the real router, redis-server and
// two backends, all on 127.0.0.1. Engines are required: a missing one fails, never skips.
import * as fs from 'fs';
import { OutgoingHttpHeaders } from 'http';
import * as path from 'path';
import { block, directive, renderNginxConf } from '../lib/nginx/conf';
import { ROUTE_FAILURES, renderRoutingConf } from '../lib/nginx/routing-conf';
import { normalizePath } from '../lib/router/service/path';
import { fnv1a } from '../lib/router/service/rules';
import { freePort, requireEngine, startProcess, waitForPort } from './support/engines';
import { configMapFile, environmentChart } from './support/synth';
import { localRules, synthStack } from './nginx/chart';
import { Reply, RunningNginx, TestServer, get, localModel, request, nginxTest, rawGet, sharedTempDir, startBackend, startNginx, startRedis, startRouter, startServer } from './nginx/stack';

jest.setTimeout(30_000);

const stack = synthStack();
const dirs: string[] = [];
const stops: (() => Promise<void>)[] = [];

async function localNginx(which: 'nginx' | 'cachedNginx', routerAddress: string, backends: Record<string, string>): Promise<RunningNginx> {
  const dir = sharedTempDir(`nginx-${which}`);
  dirs.push(dir);
  const ports = { listen: await freePort(), health: await freePort(), status: await freePort() };
  const running = await startNginx(localModel(stack[which].confModel, dir, ports, { router: routerAddress, backends }), dir);
  stops.push(running.stop);
  return running;
}

let a: TestServer;
let b: TestServer;
let canary: TestServer;
let redis: Awaited<ReturnType<typeof startRedis>>;
let nginx: RunningNginx;
let cached: RunningNginx;
let backendAddresses: Record<string, string>;

beforeAll(async () => {
  a = await startBackend('app-a');
  b = await startBackend('app-b');
  // Nothing may ever reach this one: the lying router below names it as a target.
  canary = await startBackend('canary');
  stops.push(a.close, b.close, canary.close);
  redis = await startRedis();
  stops.push(redis.stop);
  const routerDir = sharedTempDir('router');
  dirs.push(routerDir);
  const router = await startRouter(localRules(configMapFile(stack.objects, 'test-router-config', 'rules.json'), redis.port), routerDir);
  stops.push(router.stop);
  backendAddresses = { 'app-a': `127.0.0.1:${a.port}`, 'app-b': `127.0.0.1:${b.port}` };
  nginx = await localNginx('nginx', `127.0.0.1:${router.port}`, backendAddresses);
  cached = await localNginx('cachedNginx', `127.0.0.1:${router.port}`, backendAddresses);
});

afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** Which backend answered. */
async function backendOf(port: number, urlPath: string, headers: OutgoingHttpHeaders = {}): Promise<string> {
  const reply = await get(port, urlPath, headers);
  if (reply.status !== 200) throw new Error(`GET ${urlPath}: ${reply.status} ${reply.headers['x-route-error'] ?? ''} ${reply.body}`);
  return String(reply.headers['x-backend']);
}

/** A dev session cookie that dev's 90/10 split sends to `target`. */
function sessionFor(target: 'echo-a' | 'echo-b'): string {
  for (let i = 0; ; i++) if ((fnv1a(`d${i}`) % 100 < 90) === (target === 'echo-a')) return `d${i}`;
}

/** A sticky key that the weighted 1:1 split sends to `target` (the router hashes with FNV-1a). */
function sidFor(target: 'app-a' | 'app-b'): string {
  for (let i = 0; ; i++) if ((fnv1a(`s${i}`) % 2 === 0) === (target === 'app-a')) return `s${i}`;
}

describe('the generated nginx.conf', () => {
  test('is exactly what the ConfigMap holds, and passes nginx -t', () => {
    // GIVEN the synthesized chart
    const inConfigMap = configMapFile(stack.objects, 'test-nginx-config', 'nginx.conf');
    // THEN the ConfigMap holds the renderer's output for the construct's model
    expect(inConfigMap).toBe(renderRoutingConf(stack.nginx.confModel));
    // AND the local variant differs only in addresses, paths and log destinations
    const dir = sharedTempDir('nginx-t');
    dirs.push(dir);
    const local = renderRoutingConf(localModel(stack.nginx.confModel, dir, { listen: 1, health: 2, status: 3 }, { router: '127.0.0.1:4', backends: { 'app-a': '127.0.0.1:5', 'app-b': '127.0.0.1:6' } }));
    const synthLines = inConfigMap.split('\n');
    const localLines = local.split('\n');
    expect(localLines).toHaveLength(synthLines.length);
    const changed = synthLines.filter((line, i) => line !== localLines[i]).map((line) => line.trim().split(' ')[0]);
    expect(new Set(changed)).toEqual(new Set(['pid', 'error_log', 'client_body_temp_path', 'proxy_temp_path', 'fastcgi_temp_path', 'uwsgi_temp_path', 'scgi_temp_path', 'access_log', 'server', 'listen']));
    // WHEN nginx checks it
    const confFile = path.join(dir, 'nginx.conf');
    fs.writeFileSync(confFile, local);
    // THEN it is valid
    expect(nginxTest(confFile)).toMatch(/syntax is ok[\s\S]*test is successful/);
  });
});

test.each(['dev', 'staging', 'prod'])('the %s environment\'s nginx.conf passes nginx -t (local addresses substituted)', (name) => {
  const nginxOf = environmentChart(name).routing!.nginx;
  const dir = sharedTempDir(`nginx-t-${name}`);
  dirs.push(dir);
  const backends = Object.fromEntries(nginxOf.confModel.backends.map((b, i) => [b.name, `127.0.0.1:${10_000 + i}`]));
  const confFile = path.join(dir, 'nginx.conf');
  fs.writeFileSync(confFile, renderRoutingConf(localModel(nginxOf.confModel, dir, { listen: 1, health: 2, status: 3 }, { router: '127.0.0.1:4', backends })));
  expect(nginxTest(confFile)).toMatch(/test is successful/);
});

describe('routing through nginx and the router', () => {
  test('routes by path prefix, header, cookie, weighted split and redis lookup', async () => {
    expect(await backendOf(nginx.port, '/b/page')).toBe('app-b');
    expect(await backendOf(nginx.port, '/page', { 'X-Beta': 'yes', Cookie: `sid=${sidFor('app-a')}` })).toBe('app-b');
    expect(await backendOf(nginx.port, '/page', { Cookie: `beta=1; sid=${sidFor('app-a')}` })).toBe('app-b');
    // Weighted, sticky by cookie: the same key always gets the same target.
    for (const target of ['app-a', 'app-b'] as const) {
      const sid = sidFor(target);
      const seen = new Set<string>();
      for (let i = 0; i < 5; i++) seen.add(await backendOf(nginx.port, `/shop/${i}`, { Cookie: `sid=${sid}` }));
      expect([...seen]).toEqual([target]);
    }
    // Weighted, no key: random per request, both targets get traffic.
    const random = new Set<string>();
    for (let i = 0; i < 40 && random.size < 2; i++) random.add(await backendOf(nginx.port, '/shop'));
    expect(random).toEqual(new Set(['app-a', 'app-b']));
    // Redis lookup: the tenant's key names the backend.
    redis.cli('SET', 'tenant:acme', 'app-b');
    expect(await backendOf(nginx.port, '/orders', { 'X-Tenant': 'acme', Cookie: `sid=${sidFor('app-a')}` })).toBe('app-b');
    // Paths outside the router go straight to their backend.
    expect(await backendOf(nginx.port, '/direct/x', { 'X-Beta': 'yes' })).toBe('app-a');
  });

  test('passes the original URI and host to the backend', async () => {
    const reply = await get(nginx.port, '/b/items?q=1&r=%2F', { Host: 'shop.example' });
    expect(reply.body).toBe('backend app-b /b/items?q=1&r=%2F\n');
    expect(b.lastHeaders()?.host).toBe('shop.example');
  });

  test('a run-time change in redis takes effect on the next request (cache off)', async () => {
    const tenant = { 'X-Tenant': 'globex', Cookie: `sid=${sidFor('app-a')}` };
    redis.cli('SET', 'tenant:globex', 'app-a');
    expect(await backendOf(nginx.port, '/orders', tenant)).toBe('app-a');
    redis.cli('SET', 'tenant:globex', 'app-b');
    expect(await backendOf(nginx.port, '/orders', tenant)).toBe('app-b');
    redis.cli('SET', 'tenant:globex', 'app-a');
    expect(await backendOf(nginx.port, '/orders', tenant)).toBe('app-a');
  });

  test('with the decision cache, a change applies within the TTL (nginx counts whole seconds: TTL to TTL+1 s)', async () => {
    const tenant = { 'X-Tenant': 'initech', Cookie: `sid=${sidFor('app-a')}` };
    redis.cli('SET', 'tenant:initech', 'app-a');
    expect(await backendOf(cached.port, '/orders', tenant)).toBe('app-a');
    redis.cli('SET', 'tenant:initech', 'app-b');
    const changed = Date.now();
    // Cached: the next request still gets the old decision, without asking the router.
    expect(await backendOf(cached.port, '/orders', tenant)).toBe('app-a');
    let now = 'app-a';
    let lastStaleSent = changed;
    while (now === 'app-a' && Date.now() - changed < 3000) {
      await new Promise((r) => setTimeout(r, 100));
      const sent = Date.now();
      now = await backendOf(cached.port, '/orders', tenant);
      if (now === 'app-a') lastStaleSent = sent;
    }
    expect(now).toBe('app-b');
    // No request sent later than TTL + 1 s after the change got the old decision (the entry was
    // cached before the change). Timed when each request is sent: how long an answer takes on a
    // loaded machine is not the cache's doing.
    expect(lastStaleSent - changed).toBeLessThanOrEqual(2000);
    // Keyed by the header the rule reads: another tenant on the same URI is not served the cached answer.
    redis.cli('SET', 'tenant:umbrella', 'app-a');
    expect(await backendOf(cached.port, '/orders', { 'X-Tenant': 'umbrella', Cookie: `sid=${sidFor('app-b')}` })).toBe('app-a');
    expect(cached.accessLog()).toMatch(/decision_cache=HIT/);
  });

  test('a key asked again after its entry expired gets the new decision on that first request (never an older one)', async () => {
    const tenant = { 'X-Tenant': 'hooli', Cookie: `sid=${sidFor('app-a')}` };
    redis.cli('SET', 'tenant:hooli', 'app-a');
    expect(await backendOf(cached.port, '/orders', tenant)).toBe('app-a');
    redis.cli('SET', 'tenant:hooli', 'app-b');
    // Past TTL + 1 s with no request in between: the entry has expired, and the first request after
    // it must wait for the router's answer, not be handed the expired one while it is refreshed.
    await new Promise((r) => setTimeout(r, 2100));
    expect(await backendOf(cached.port, '/orders', tenant)).toBe('app-b');
  });

  // Cache poisoning: a request whose inputs nginx reads one way and the router another would have
  // its decision cached under another client's key. The router is sent the inputs as nginx read
  // them (the cache key's variables), and the key's parts cannot run into each other.
  describe('no request can have its decision cached under another client\'s key', () => {
    test('a cookie named in other letter case', async () => {
      const victim = sidFor('app-a');
      const attacker = sidFor('app-b');
      // nginx matches cookie names in any case; the router, as browsers, exactly. Whatever the
      // attacker's own request gets, the victim's key must hold the victim's decision.
      await backendOf(cached.port, '/shop/case', { Cookie: `SID=${victim}; sid=${attacker}` });
      expect(await backendOf(cached.port, '/shop/case', { Cookie: `sid=${victim}` })).toBe('app-a');
    });

    test('a header sent twice', async () => {
      redis.cli('SET', 'tenant:wayne', 'app-b');
      const sid = sidFor('app-a');
      // Two X-Tenant lines: nginx 1.22 reads the first, node joins both ("wayne, stark", no such key).
      await backendOf(cached.port, '/orders/twice', { 'X-Tenant': ['wayne', 'stark'], Cookie: `sid=${sid}` });
      expect(await backendOf(cached.port, '/orders/twice', { 'X-Tenant': 'wayne', Cookie: `sid=${sid}` })).toBe('app-b');
    });

    test("a value holding the key's separator", async () => {
      const sid = sidFor('app-a');
      // Joined with '|', the attacker's parts (URI /shop/x, X-Beta yes, sid "|<sid>") would spell the
      // victim's (URI /shop/x|yes, no X-Beta, sid <sid>): X-Beta's decision under the victim's key.
      await backendOf(cached.port, '/shop/x', { 'X-Beta': 'yes', Cookie: `sid=|${sid}` });
      expect(await backendOf(cached.port, '/shop/x|yes', { Cookie: `sid=${sid}` })).toBe('app-a');
    });

    test('a cookie nginx has no variable for goes to the router as the whole Cookie header, which the key holds', async () => {
      // GIVEN a router splitting by `session-id` (no $cookie_ variable: '-') behind a cached nginx
      const routerDir = sharedTempDir('router-session-id');
      const nginxDir = sharedTempDir('nginx-session-id');
      dirs.push(routerDir, nginxDir);
      const rules = { targets: ['app-a', 'app-b'], rules: [{ strategy: 'weighted', params: { weights: { 'app-a': 1, 'app-b': 1 }, stickyBy: { cookie: 'session-id' } } }] };
      const router = await startRouter(JSON.stringify(rules), routerDir);
      stops.push(router.stop);
      const ports = { listen: await freePort(), health: await freePort(), status: await freePort() };
      const model = { ...localModel(stack.cachedNginx.confModel, nginxDir, ports, { router: `127.0.0.1:${router.port}`, backends: backendAddresses }), decisionInputs: [{ cookie: 'session-id' }] };
      expect(renderRoutingConf(model)).toContain('proxy_set_header Cookie $http_cookie;');
      const split = await startNginx(model, nginxDir);
      stops.push(split.stop);
      const [victim, attacker] = [sidFor('app-a'), sidFor('app-b')];
      // THEN the split is sticky by that cookie through nginx (a fresh draw each time would differ)
      for (let i = 0; i < 5; i++) {
        expect(await backendOf(split.port, `/hyphen/${i}`, { Cookie: `other=1; session-id=${victim}` })).toBe('app-a');
        expect(await backendOf(split.port, `/hyphen/${i}`, { Cookie: `session-id=${attacker}` })).toBe('app-b');
      }
      // AND a cookie in other letter case cannot put the attacker's decision under the victim's key
      await backendOf(split.port, '/hyphen-case', { Cookie: `SESSION-ID=${victim}; session-id=${attacker}` });
      expect(await backendOf(split.port, '/hyphen-case', { Cookie: `session-id=${victim}` })).toBe('app-a');
    });

    test('an empty sticky cookie is no key: requests without one still get a fresh draw', async () => {
      for (let i = 0; i < 3; i++) await backendOf(cached.port, '/shop/empty', { Cookie: 'sid=' });
      const seen = new Set<string>();
      for (let i = 0; i < 40 && seen.size < 2; i++) seen.add(await backendOf(cached.port, '/shop/empty'));
      expect(seen).toEqual(new Set(['app-a', 'app-b']));
    });
  });

  test('random split decisions are never cached', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 40 && seen.size < 2; i++) seen.add(await backendOf(cached.port, '/same-uri'));
    expect(seen).toEqual(new Set(['app-a', 'app-b']));
  });

  test('passes the router\'s 401 and 403 through', async () => {
    const forbidden = await get(nginx.port, '/admin/users');
    expect(forbidden.status).toBe(403);
    const unauthorized = await get(nginx.port, '/private/me');
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers['www-authenticate']).toBe('Bearer');
  });

  test('a spoofed client header changes nothing and reaches neither the router nor a backend', async () => {
    for (const spoof of ['app-b', `127.0.0.1:${canary.port}`, '169.254.169.254']) {
      const reply = await get(nginx.port, '/b/x', { 'X-Route-Target': spoof });
      expect(reply.headers['x-backend']).toBe('app-b');
      expect(b.lastHeaders()?.['x-route-target']).toBeUndefined();
      expect(await backendOf(nginx.port, '/page', { 'X-Route-Target': spoof, Cookie: `sid=${sidFor('app-a')}` })).toBe('app-a');
    }
    expect(canary.hits()).toBe(0);
  });
});

describe('rules decide on the path the backend resolves (NGINX\'s $uri)', () => {
  // Spellings a backend resolves to the same path: percent-escapes (%2F included), dot segments, merged slashes.
  const TRICKY = ['/%69nternal/secret', '/./internal/secret', '/x/../internal/secret', '/internal%2fsecret', '/x/../b/x', '/%62/x', '//b/x', '/a/%2e%2e/b', '/a/.%2e/b', '/a%2f..%2fb',
    '/a/b/..', '/a/.', '/a/b%2f%2e%2e', '/%2525', '/a%3fb', '/a%20b', '/a/%23b', '/%C3%A9', '/a/...', '/a/.;/b', '/a\\..\\b', '/b/x?y=/../a', '/a#/../b', '/..', '/a/../..', '/%2e%2e/a', '/%zz', '/a%', '/%00x'];

  test('the router\'s normalizePath is what real nginx puts in $uri, and refuses what nginx refuses', async () => {
    // GIVEN nginx answering each request with its $uri (a probe config, not the generated one)
    const dir = sharedTempDir('nginx-uri');
    dirs.push(dir);
    const port = await freePort();
    const conf = path.join(dir, 'nginx.conf');
    fs.writeFileSync(conf, renderNginxConf([
      directive('pid', path.join(dir, 'nginx.pid')),
      directive('error_log', path.join(dir, 'error.log')),
      block('events', [], []),
      block('http', [], [
        directive('access_log', 'off'),
        ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => directive(`${t}_temp_path`, path.join(dir, t))),
        block('server', [], [directive('listen', `127.0.0.1:${port}`), block('location', ['/'], [directive('return', 200, '$uri')])]),
      ]),
    ]));
    const proc = startProcess(requireEngine('nginx', 'nginx-light'), ['-p', dir, '-c', conf, '-g', 'daemon off;']);
    stops.push(() => proc.stop('SIGTERM'));
    await waitForPort(port, 5000);
    for (const uri of TRICKY) {
      // WHEN nginx parses the URI as sent (raw bytes: a client library would normalize it first)
      const reply = await rawGet(port, uri);
      // THEN the router's path is nginx's $uri, byte for byte; nginx's 400 is the router's refusal
      expect([uri, reply.status === 200 ? reply.body : reply.status]).toEqual([uri, normalizePath(uri) ?? 400]);
    }
  });

  test.each(['/%69nternal/secret', '/./internal/secret', '/x/../internal/secret', '/internal%2fsecret', '/INTERNAL/../internal/secret', '//internal//secret'])(
    'refuse /internal/ 403 holds for %s: 403, and no backend sees it',
    async (uri) => {
      const before = a.hits() + b.hits();
      for (const port of [nginx.port, cached.port]) expect((await rawGet(port, uri)).status).toBe(403);
      expect(a.hits() + b.hits()).toBe(before);
    },
  );

  test('the dev environment\'s generated config: /x/../b/x, /%62/x and //b/x go to echo-b, as the path the backend resolves says', async () => {
    // GIVEN dev's nginx.conf and rules.json, with local addresses
    const dev = environmentChart('dev').routing!;
    const echoA = await startBackend('echo-a');
    const echoB = await startBackend('echo-b');
    stops.push(echoA.close, echoB.close);
    const dir = sharedTempDir('router-dev');
    dirs.push(dir);
    const router = await startRouter(localRules(dev.router.rulesJson, redis.port), dir);
    stops.push(router.stop);
    const ports = { listen: await freePort(), health: await freePort(), status: await freePort() };
    const devDir = sharedTempDir('nginx-dev');
    dirs.push(devDir);
    const running = await startNginx(localModel(dev.nginx.confModel, devDir, ports, { router: `127.0.0.1:${router.port}`, backends: { 'echo-a': `127.0.0.1:${echoA.port}`, 'echo-b': `127.0.0.1:${echoB.port}` } }), devDir);
    stops.push(running.stop);
    for (const uri of ['/x/../b/x', '/%62/x', '//b/x', '/b/x']) {
      // WHEN a client sends each spelling (a sticky session that the split sends to echo-a otherwise)
      const reply = await rawGet(running.port, uri, { Cookie: 'session=s1' });
      // THEN echo-b answers: the rule matched the path echo-b resolves
      expect([uri, reply.status, reply.body.split(' ')[1]]).toEqual([uri, 200, 'echo-b']);
    }
    expect((await rawGet(running.port, '/a/x', { Cookie: `session=${sessionFor('echo-a')}` })).body.split(' ')[1]).toBe('echo-a');
  });
});

describe('against a router that lies or fails (fail closed)', () => {
  // A router that lies or fails on demand, by the request's path.
  let liar: TestServer;
  let viaLiar: RunningNginx;
  let routerSawAnswerHeader: string | undefined;
  let routerSaw: { method?: string; url?: string; bodyBytes: number } = { bodyBytes: 0 };
  const answers: Record<string, string> = {};

  beforeAll(async () => {
    liar = await startServer((req, res) => {
      const uri = String(req.headers['x-original-uri']);
      routerSawAnswerHeader = req.headers['x-route-target'] as string | undefined;
      routerSaw = { method: req.method, url: req.url, bodyBytes: 0 };
      req.on('data', (d: Buffer) => (routerSaw.bodyBytes += d.length));
      if (uri.startsWith('/slow')) return void setTimeout(() => res.writeHead(204, { 'X-Route-Target': 'app-a' }).end(), 2000).unref();
      if (uri.startsWith('/error')) return void res.writeHead(500).end();
      if (uri.startsWith('/no-rule')) return void res.writeHead(404).end();
      if (uri.startsWith('/answer-')) return void res.writeHead(Number(uri.slice('/answer-'.length)), { 'X-Route-Target': 'app-a', Location: '/x' }).end();
      // Over nginx's proxy_buffer_size (one page): nginx cannot read the answer.
      if (uri.startsWith('/big-header')) return void res.writeHead(204, { 'X-Route-Target': 'app-a', 'X-Padding': 'x'.repeat(16 * 1024) }).end();
      if (uri.startsWith('/reset')) return void req.socket.destroy();
      const answer = answers[uri];
      res.writeHead(204, answer === undefined ? {} : { 'X-Route-Target': answer }).end();
    });
    stops.push(liar.close);
    viaLiar = await localNginx('nginx', `127.0.0.1:${liar.port}`, backendAddresses);
  });

  test.each([
    ['169.254.169.254'],
    ['169.254.169.254:80'],
    ['evil.example'],
    ['http://evil.example/'],
    ['app-a.evil.example'],
    ['app-c'],
    ['app-a, app-b'],
    ['app-a/../x'],
    [''],
  ])('a target outside the allowlist (%j) gets 502 target-not-allowed and reaches nothing', async (answer) => {
    answers['/t'] = answer;
    answers['/canary'] = `127.0.0.1:${canary.port}`;
    const before = a.hits() + b.hits();
    for (const uri of ['/t', '/canary']) {
      const reply = await get(viaLiar.port, uri);
      expect(reply.status).toBe(ROUTE_FAILURES.targetNotAllowed.status);
      expect(reply.headers['x-route-error']).toBe('target-not-allowed');
    }
    expect(a.hits() + b.hits()).toBe(before);
    expect(canary.hits()).toBe(0);
  });

  test('the router is asked with the original method, host and URI, and no body', async () => {
    answers['/form?x=1'] = 'app-a';
    const reply = await request(viaLiar.port, 'POST', '/form?x=1', { Host: 'shop.example', 'Content-Type': 'text/plain' }, 'a'.repeat(5000));
    expect(reply.body).toBe('backend app-a /form?x=1\n');
    expect(routerSaw).toEqual({ method: 'GET', url: '/route', bodyBytes: 0 });
    const asked = liar.lastHeaders() ?? {};
    expect([asked['x-original-method'], asked['x-original-host'], asked['x-original-uri'], asked['content-length']]).toEqual(['POST', 'shop.example', '/form?x=1', undefined]);
  });

  test('keeps connections to the router and to the backend alive', async () => {
    answers['/kept'] = 'app-a';
    await get(viaLiar.port, '/kept');
    const [routerBefore, backendBefore] = [liar.connections(), a.connections()];
    for (let i = 0; i < 30; i++) expect((await get(viaLiar.port, '/kept')).status).toBe(200);
    // At most one new connection per nginx worker (2), not one per request.
    expect(liar.connections() - routerBefore).toBeLessThanOrEqual(2);
    expect(a.connections() - backendBefore).toBeLessThanOrEqual(2);
  });

  test('an answer without the header gets 502, and the router never sees a client copy of it', async () => {
    const reply = await get(viaLiar.port, '/none', { 'X-Route-Target': 'app-a' });
    expect(reply.status).toBe(502);
    expect(reply.headers['x-route-error']).toBe('target-not-allowed');
    expect(routerSawAnswerHeader).toBeUndefined();
  });

  /** Each row of lib/nginx/README.md's status table, by the start of its first cell: what makes it happen, through real nginx. */
  const SCENARIOS: Record<string, () => Promise<{ label: string; reply: Reply }[]>> = {
    'The router names an allowlisted backend': async () => {
      answers['/kept'] = 'app-a';
      return [{ label: 'app-a', reply: await get(viaLiar.port, '/kept') }];
    },
    'The router names anything else': async () => {
      const replies = [];
      for (const answer of ['169.254.169.254', 'evil.example', '']) {
        answers['/t'] = answer;
        replies.push({ label: answer, reply: await get(viaLiar.port, '/t') });
      }
      return replies;
    },
    'The router answers an error': async () => {
      const replies = [];
      for (const uri of ['/error', '/no-rule', '/answer-502', '/answer-504', '/answer-302']) replies.push({ label: uri, reply: await get(viaLiar.port, uri) });
      return replies;
    },
    "The router's answer cannot be read": async () => {
      const replies = [];
      for (const uri of ['/big-header', '/reset']) replies.push({ label: uri, reply: await get(viaLiar.port, uri) });
      return replies;
    },
    'The router is unreachable': async () => {
      const down = await localNginx('nginx', `127.0.0.1:${await freePort()}`, backendAddresses);
      return [{ label: 'refused', reply: await get(down.port, '/b/page') }];
    },
    'The router is slower than': async () => [{ label: '/slow', reply: await get(viaLiar.port, '/slow') }],
    'The router answers 401 or 403': async () => [
      { label: '/admin/users', reply: await get(nginx.port, '/admin/users') },
      { label: '/private/me', reply: await get(nginx.port, '/private/me') },
    ],
    'The allowlisted backend is unreachable': async () => {
      const broken = await localNginx('nginx', `127.0.0.1:${liar.port}`, { ...backendAddresses, 'app-b': `127.0.0.1:${await freePort()}` });
      answers['/to-b'] = 'app-b';
      return [{ label: '/to-b', reply: await get(broken.port, '/to-b') }];
    },
  };

  /** The rows of the README's status table: situation, what the client gets, X-Route-Error. */
  function statusTable(): string[][] {
    const readme = fs.readFileSync(path.join(__dirname, '..', 'lib', 'nginx', 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Statuses'), readme.indexOf('\n## ', readme.indexOf('## Statuses') + 1));
    return section.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| Situation') && !l.startsWith('| ---')).map((l) => l.split('|').slice(1, -1).map((c) => c.trim()));
  }

  test('every row of the README status table has a scenario below, and every scenario a row', () => {
    expect(statusTable().map(([situation]) => Object.keys(SCENARIOS).find((k) => situation.startsWith(k)))).toEqual(Object.keys(SCENARIOS));
  });

  test.each(statusTable())('status table: %s -> %s (X-Route-Error %s)', async (situation, gets, error) => {
    const scenario = Object.entries(SCENARIOS).find(([k]) => situation.startsWith(k))![1];
    const before = a.hits() + b.hits();
    const replies = await scenario();
    for (const { label, reply } of replies) {
      if (gets === "the backend's response") {
        expect([label, reply.status, reply.headers['x-backend']]).toEqual([label, 200, label]);
        continue;
      }
      // `**502**`, or `**401 / 403**` passed through: the status the router gave, among those listed
      const listed = (/\*\*([\d /]+)\*\*/.exec(gets)?.[1] ?? '').split('/').map((x) => Number(x.trim()));
      expect([label, listed]).toEqual([label, expect.arrayContaining([reply.status])]);
      expect([label, reply.headers['x-route-error'] ?? '-']).toEqual([label, error.replace(/`/g, '')]);
      if (listed.length > 1) expect(reply.status).toBe(label.startsWith('/admin/') ? 403 : 401);
    }
    // A failure never reaches a backend.
    if (gets !== "the backend's response") expect(a.hits() + b.hits()).toBe(before);
    // The timeout's 504 comes within the timeout (300 ms here), every other answer at once.
    for (const { reply } of replies) {
      if (situation.startsWith('The router is slower')) expect(reply.ms).toBeGreaterThanOrEqual(300 - 20);
      expect(reply.ms).toBeLessThan(300 + 400);
    }
  });
});

describe('probes and metrics ports', () => {
  test('healthz answers on its own port, stub_status on loopback', async () => {
    expect((await get(nginx.healthPort, '/healthz')).body).toBe('ok\n');
    expect((await get(nginx.statusPort, '/stub_status')).body).toMatch(/^Active connections: \d+/);
  });
});

// Last: it stops the shared Redis.
describe('when Redis is down', () => {
  test('requests the Redis rule must decide fail closed (502 router-error); other rules still route', async () => {
    await redis.stop();
    const before = a.hits() + b.hits();
    const tenant = await get(nginx.port, '/orders', { 'X-Tenant': 'acme', Cookie: `sid=${sidFor('app-a')}` });
    expect([tenant.status, tenant.headers['x-route-error']]).toEqual([502, 'router-error']);
    expect(a.hits() + b.hits()).toBe(before);
    expect(await backendOf(nginx.port, '/b/still-routed')).toBe('app-b');
  });
});
