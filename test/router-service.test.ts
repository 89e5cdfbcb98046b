// The router service itself (lib/router/service/): config validation, strategies, the path rules
// decide on, the RESP client against a real redis-server, /metrics checked by promtool, and the
// claim that the modules run as they are on the official Node image (erasable TypeScript, ES modules).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';
import { DECISION_BUCKETS } from '../lib/router/service/metrics';
import { RedisClient, parseResp } from '../lib/router/service/redis';
import { decide, formatProblem, parseRouterConfig, routeRequestFrom, strategyNames } from '../lib/router/service/rules';
import { createRouterServer } from '../lib/router/service/server';
import { ROUTER_MODULES } from '../lib/router/router';
import { freePort, requireEngine, run, startProcess, waitForPort } from './support/engines';
import { ROUTER_SERVICE_DIR, ROUTER_SOURCE, get, sharedTempDir, startRedis } from './nginx/stack';

jest.setTimeout(20_000);

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function scratch(): string {
  const dir = sharedTempDir('router-service');
  dirs.push(dir);
  return dir;
}

function problemsOf(raw: unknown): string[] {
  return parseRouterConfig(raw).problems.map(formatProblem);
}

function requestOf(uri: string, headers: Record<string, string> = {}) {
  const all = { 'x-original-uri': uri, 'x-original-host': 'shop.example', 'x-original-method': 'GET', ...headers };
  return routeRequestFrom(Object.fromEntries(Object.entries(all).map(([name, value]) => [name.toLowerCase(), value])))!;
}

const base = { targets: ['app-a', 'app-b'] };

describe('config validation', () => {
  test('registers the strategies by name', () => {
    expect(strategyNames()).toEqual(['pathPrefix', 'header', 'cookie', 'weighted', 'redisLookup', 'refuse']);
  });

  test('fails when rules name unknown strategies, targets or params, listing every problem', () => {
    expect(
      problemsOf({
        targets: ['app-a', 'App_B', 'app-a'],
        rules: [
          { strategy: 'geo', params: {} },
          { strategy: 'pathPrefix', params: { prefix: 'api', target: 'app-c' } },
          { strategy: 'weighted', params: { weights: { 'app-a': 0, evil: 1 } } },
          { strategy: 'redisLookup', params: { keyPrefix: 'tenant:', key: { header: 'X-Tenant', cookie: 't' } } },
          { strategy: 'refuse', params: { prefix: '/admin', status: 404 } },
          { strategy: 'header', params: { name: 'X Bad', value: 'v', target: 'app-a', extra: 1 } },
        ],
        defaultTarget: 'app-z',
      }),
    ).toEqual([
      "targets[1] must be a DNS label (lower-case letters, digits and -), got 'App_B'",
      "targets[2] must be unique, got 'app-a'",
      "rules[0].strategy must be one of pathPrefix|header|cookie|weighted|redisLookup|refuse, got 'geo'",
      "rules[1].params.prefix must be a path starting with '/', without %-escapes, '.' or '..' segments or '//' (rules match the path as NGINX resolves it), got 'api'",
      "rules[1].params.target must be one of the targets (app-a), got 'app-c'",
      "rules[2].params.weights must be keyed by targets (app-a), got 'evil'",
      'rules[2].params.weights must be at least one positive weight, got {"app-a":0,"evil":1}',
      "rules[3].strategy must be used only when the router has a redis endpoint, got 'redisLookup'",
      'rules[3].params.key must be exactly one of header, cookie, pathSegment, got {"header":"X-Tenant","cookie":"t"}',
      'rules[4].params.status must be one of 401|403, got 404',
      'rules[5].params.extra must be absent (known keys: name, value, target), got 1',
      "rules[5].params.name must be a header name, got 'X Bad'",
      "defaultTarget must be one of the targets (app-a), got 'app-z'",
    ]);
  });

  test('a path prefix must be written as rules see paths: no %-escapes, dot segments or double slashes', () => {
    const prefixes = ['/%62/', '/a/../b/', '/./b/', '//b/', '/b/.'];
    expect(problemsOf({ ...base, rules: prefixes.map((prefix) => ({ strategy: 'refuse', params: { prefix, status: 403 } })) })).toEqual(
      prefixes.map((prefix, i) => `rules[${i}].params.prefix must be a path starting with '/', without %-escapes, '.' or '..' segments or '//' (rules match the path as NGINX resolves it), got '${prefix}'`),
    );
    expect(problemsOf({ ...base, rules: [{ strategy: 'pathPrefix', params: { prefix: '/b/...x/', target: 'app-b' } }] })).toEqual([]);
  });

  test('fails when the document is not an object or the redis endpoint is malformed', () => {
    expect(problemsOf([])).toEqual(['config must be an object, got []']);
    expect(problemsOf({ ...base, rules: [], redis: { host: 'redis', port: 0, timeoutMs: 100 } })).toEqual(['redis.port must be an integer from 1 to 65535, got 0']);
  });

  test('an invalid rules.json stops the router at start with the list, never a stack trace', () => {
    // GIVEN a config with a bad rule
    const dir = scratch();
    const file = path.join(dir, 'rules.json');
    fs.writeFileSync(file, JSON.stringify({ ...base, rules: [{ strategy: 'weighted', params: { weights: 'half' } }] }));
    // WHEN the router starts on it
    const result = spawnSync(process.execPath, ['-r', path.resolve(__dirname, '../scripts/run-ts.js'), ROUTER_SOURCE, '--config', file], { encoding: 'utf8', timeout: 10_000 });
    // THEN it exits 2 with the problem and no stack
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(`router: invalid config ${file}:\n  - rules[0].params.weights must be an object, got 'half'\n`);
    // AND unreadable JSON is reported the same way
    fs.writeFileSync(file, '{"targets": [');
    const broken = spawnSync(process.execPath, ['-r', path.resolve(__dirname, '../scripts/run-ts.js'), ROUTER_SOURCE, '--config', file], { encoding: 'utf8', timeout: 10_000 });
    expect(broken.status).toBe(2);
    expect(broken.stderr).toMatch(/^router: cannot read config .*rules\.json: /);
    expect(broken.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('strategies', () => {
  const { parsed } = parseRouterConfig({
    ...base,
    rules: [
      { strategy: 'refuse', params: { prefix: '/admin/', status: 403 } },
      { strategy: 'pathPrefix', params: { prefix: '/b/', target: 'app-b' } },
      { strategy: 'header', params: { name: 'X-Beta', value: 'yes', target: 'app-b' } },
      { strategy: 'cookie', params: { name: 'beta', value: '1', target: 'app-b' } },
      { strategy: 'weighted', params: { weights: { 'app-a': 9, 'app-b': 1 }, stickyBy: { header: 'X-User' } } },
    ],
  });
  const context = { targets: base.targets, random: () => 0.95 };

  test('the first rule that decides wins', () => {
    expect(decide(parsed!, requestOf('/admin/x'), context)).toEqual({ decision: { refuse: 403 }, strategy: 'refuse' });
    expect(decide(parsed!, requestOf('/b/x?y=1'), context)).toEqual({ decision: { target: 'app-b', cacheable: true }, strategy: 'pathPrefix' });
    expect(decide(parsed!, requestOf('/x', { 'x-beta': 'yes' }), context)).toMatchObject({ strategy: 'header' });
    expect(decide(parsed!, requestOf('/x', { cookie: 'a=b; beta=1' }), context)).toMatchObject({ strategy: 'cookie' });
  });

  test('a weighted split is sticky by key, and random (not cacheable) without one', () => {
    const byUser = new Map<string, string>();
    for (let i = 0; i < 200; i++) {
      const outcome = decide(parsed!, requestOf('/x', { 'x-user': `u${i}` }), { ...context, random: Math.random });
      const again = decide(parsed!, requestOf('/y', { 'x-user': `u${i}` }), { ...context, random: Math.random });
      expect(again).toEqual(outcome);
      byUser.set(`u${i}`, (outcome as { decision: { target: string } }).decision.target);
    }
    const toB = [...byUser.values()].filter((t) => t === 'app-b').length;
    // 1 in 10 by weight; FNV-1a spreads 200 keys within a few percent of it.
    expect(toB).toBeGreaterThan(8);
    expect(toB).toBeLessThan(35);
    expect(decide(parsed!, requestOf('/x'), context)).toEqual({ decision: { target: 'app-b', cacheable: false }, strategy: 'weighted' });
    // An empty key is no key: NGINX's cache key cannot tell it from an absent one.
    expect(decide(parsed!, requestOf('/x', { 'x-user': '' }), context)).toEqual({ decision: { target: 'app-b', cacheable: false }, strategy: 'weighted' });
  });

  test('a path segment key is the decoded segment of the normalized path, decoded once', async () => {
    const { parsed: bySegment } = parseRouterConfig({ ...base, rules: [{ strategy: 'pathPrefix', params: { prefix: '/b/', target: 'app-b' } }, { strategy: 'weighted', params: { weights: { 'app-a': 1, 'app-b': 1 }, stickyBy: { header: 'X-User' } } }] });
    // `/x/../b/x`, `/%62/x` and `//b/x` are `/b/x` to NGINX and to the backend: so to the rules.
    for (const uri of ['/x/../b/x', '/%62/x', '//b/x', '/b/./x?q=/../a']) expect(decide(bySegment!, requestOf(uri), context)).toMatchObject({ decision: { target: 'app-b' } });
    expect(requestOf('/%2541/%C3%A9').path).toBe('/%41/\u00c3\u00a9');
  });

  test('a URI whose path NGINX refuses is not decided on', () => {
    for (const uri of ['/..', '/a/../../b', '/%zz', '/a%', '/%00', 'a/b']) expect(routeRequestFrom({ 'x-original-uri': uri })).toBeUndefined();
  });

  test('no rule and no default is a no_rule error', () => {
    const { parsed: none } = parseRouterConfig({ ...base, rules: [{ strategy: 'pathPrefix', params: { prefix: '/b/', target: 'app-b' } }] });
    expect(decide(none!, requestOf('/a'), context)).toMatchObject({ error: 'no_rule' });
  });
});

describe('RESP', () => {
  test('parses every reply type, and waits for the rest of a partial one', () => {
    const wire = Buffer.from('+OK\r\n-ERR bad\r\n:42\r\n$5\r\nhello\r\n$-1\r\n*2\r\n$1\r\na\r\n:1\r\n');
    const values: unknown[] = [];
    for (let offset = 0; offset < wire.length; ) {
      const reply = parseResp(wire, offset)!;
      values.push(reply.value instanceof Error ? `error: ${reply.value.message}` : reply.value);
      offset = reply.next;
    }
    expect(values).toEqual(['OK', 'error: ERR bad', 42, 'hello', null, ['a', 1]]);
    expect(parseResp(Buffer.from('$5\r\nhel'), 0)).toBeUndefined();
    expect(parseResp(Buffer.from('*2\r\n$1\r\na\r\n'), 0)).toBeUndefined();
  });

  test('talks to a real redis-server with a password file, fails fast while it is down', async () => {
    // GIVEN a password-protected redis-server and the password in a file, as the Secret mount gives it
    const dir = scratch();
    const passwordFile = path.join(dir, 'password');
    fs.writeFileSync(passwordFile, 's3cret\n');
    const port = await freePort();
    const server = startProcess(requireEngine('redis-server', 'redis-server'), ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--requirepass', 's3cret']);
    try {
      await waitForPort(port);
      run(requireEngine('redis-cli', 'redis-tools'), ['-p', String(port), '-a', 's3cret', '--no-auth-warning', 'SET', 'tenant:acme', 'app-b']);
      const client = new RedisClient({ host: '127.0.0.1', port, passwordFile, timeoutMs: 2000 });
      // THEN commands pipeline over one authenticated connection
      expect(await Promise.all([client.command(['GET', 'tenant:acme']), client.command(['GET', 'tenant:none'])])).toEqual(['app-b', null]);
      // WHEN redis goes away
      await server.stop('SIGKILL');
      await expect(client.command(['GET', 'tenant:acme'])).rejects.toThrow(/redis/);
      // THEN the next command fails fast: the closed connection, not the 2 s timeout (a loaded machine can take 200 ms to answer)
      const started = Date.now();
      await expect(client.command(['GET', 'tenant:acme'])).rejects.toThrow(/redis/);
      expect(Date.now() - started).toBeLessThan(100);
      client.close();
    } finally {
      await server.stop('SIGKILL');
    }
    // AND a wrong password is an error, not a hang
    const again = await startRedis();
    try {
      again.cli('CONFIG', 'SET', 'requirepass', 'other');
      const client = new RedisClient({ host: '127.0.0.1', port: again.port, passwordFile, timeoutMs: 2000 });
      await expect(client.command(['GET', 'x'])).rejects.toThrow(/WRONGPASS|invalid password|NOAUTH/);
      client.close();
    } finally {
      await again.stop();
    }
  });
});

describe('the HTTP server', () => {
  test('/metrics is valid Prometheus text with the contract names, and /route answers by outcome', async () => {
    // GIVEN a router with Redis that is down
    const redisPort = await freePort();
    const { parsed } = parseRouterConfig({
      ...base,
      rules: [
        { strategy: 'refuse', params: { prefix: '/private/', status: 401 } },
        { strategy: 'redisLookup', params: { keyPrefix: 't:', key: { pathSegment: 0 } } },
        { strategy: 'pathPrefix', params: { prefix: '/b/', target: 'app-b' } },
      ],
      redis: { host: '127.0.0.1', port: redisPort, timeoutMs: 50 },
    });
    const router = createRouterServer(parsed!);
    const { server, redis } = router;
    const logged = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    try {
      const route = (uri: string) => get(port, '/route', { 'X-Original-URI': uri });
      // THEN each outcome has its status
      expect((await route('/private/x')).status).toBe(401);
      expect((await route('/private/x')).headers['www-authenticate']).toBe('Bearer');
      const down = await route('/b/x');
      expect([down.status, down.headers['x-route-error']]).toEqual([503, 'redis_unavailable']);
      expect((await get(port, '/healthz')).status).toBe(200);
      expect((await get(port, '/readyz')).status).toBe(200);
      expect((await get(port, '/nope')).status).toBe(404);
      // AND the metrics say so, in a format promtool accepts
      const metrics = (await get(port, '/metrics')).body;
      expect(metrics).toContain('router_refusals_total{reason="unauthorized"} 2');
      expect(metrics).toContain('router_decision_errors_total{reason="redis_unavailable"} 1');
      expect(metrics).toContain(`router_decision_duration_seconds_bucket{strategy="none",le="${DECISION_BUCKETS[DECISION_BUCKETS.length - 1]}"} 1`);
      for (const name of ['router_decisions_total', 'router_decision_errors_total', 'router_refusals_total', 'router_decision_duration_seconds']) expect(metrics).toContain(`# TYPE ${name} `);
      const check = spawnSync(requireEngine('promtool', 'prometheus'), ['check', 'metrics'], { input: metrics, encoding: 'utf8', timeout: 10_000 });
      expect(`${check.stdout}${check.stderr}`).toBe('');
      expect(check.status).toBe(0);
      expect(logged).toHaveBeenCalledWith(expect.stringMatching(/^router: redis_unavailable: /));
    } finally {
      logged.mockRestore();
      redis?.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  test('SIGTERM fails readiness first and keeps answering during the drain', async () => {
    const dir = scratch();
    const file = path.join(dir, 'rules.json');
    fs.writeFileSync(file, JSON.stringify({ ...base, rules: [], defaultTarget: 'app-a' }));
    const port = await freePort();
    const router = startProcess(process.execPath, ['-r', path.resolve(__dirname, '../scripts/run-ts.js'), ROUTER_SOURCE, '--config', file, '--port', String(port), '--host', '127.0.0.1', '--drain-ms', '400']);
    try {
      await waitForPort(port);
      router.child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 100));
      expect((await get(port, '/readyz')).status).toBe(503);
      const answer = await get(port, '/route', { 'X-Original-URI': '/' });
      expect([answer.status, answer.headers['x-route-target']]).toEqual([204, 'app-a']);
      await router.stop();
      expect(router.child.exitCode).toBe(0);
    } finally {
      await router.stop('SIGKILL');
    }
  });
});

describe('runs as is on the official Node image', () => {
  test('uses only erasable TypeScript syntax (what Node strips natively)', () => {
    const files = ROUTER_MODULES.map((n) => path.join(ROUTER_SERVICE_DIR, `${n}.ts`));
    const program = ts.createProgram(files, { erasableSyntaxOnly: true, verbatimModuleSyntax: true, allowImportingTsExtensions: true, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, target: ts.ScriptTarget.ES2022, strict: true, noEmit: true, types: ['node'], skipLibCheck: true });
    const diagnostics = ts.getPreEmitDiagnostics(program).filter((d) => files.includes(d.file?.fileName ?? ''));
    expect(diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))).toEqual([]);
  });

  test('loads as ES modules with only node: and sibling imports and validates its config (--check)', () => {
    // GIVEN the modules with types stripped and their ES module syntax kept, beside a package.json
    // saying they are ES modules, as the ConfigMap ships them (here .js: this Node strips no types)
    const dir = scratch();
    for (const name of ROUTER_MODULES) {
      const source = fs.readFileSync(path.join(ROUTER_SERVICE_DIR, `${name}.ts`), 'utf8');
      const imports = [...source.matchAll(/^import .* from '([^']+)';$/gm)].map((m) => m[1]);
      for (const i of imports) expect(i).toMatch(/^(node:[a-z]+|\.\/[a-z]+\.ts)$/);
      const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true, rewriteRelativeImportExtensions: true } }).outputText;
      fs.writeFileSync(path.join(dir, `${name}.js`), js);
    }
    fs.writeFileSync(path.join(dir, 'package.json'), '{ "type": "module" }\n');
    fs.writeFileSync(path.join(dir, 'rules.json'), JSON.stringify({ ...base, rules: [{ strategy: 'pathPrefix', params: { prefix: '/b/', target: 'app-b' } }] }));
    // WHEN node runs the entry point
    const result = spawnSync(process.execPath, [path.join(dir, 'main.js'), '--config', path.join(dir, 'rules.json'), '--check'], { encoding: 'utf8', timeout: 10_000 });
    // THEN it starts (no CommonJS globals) and accepts the config
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(`router: config ${path.join(dir, 'rules.json')} is valid (1 rules, targets app-a, app-b)\n`);
  });

  test('the construct loads only what synth needs: the rules and the path, never the server', () => {
    const script = `require(${JSON.stringify(path.resolve(__dirname, '../scripts/run-ts.js'))}); require(${JSON.stringify(path.resolve(__dirname, '../lib/index.ts'))}); console.log(JSON.stringify(Object.keys(require.cache).filter((f) => f.includes('/lib/router/service/')).map((f) => require('path').basename(f)).sort()));`;
    const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(JSON.parse(result.stdout)).toEqual(['path.ts', 'rules.ts']);
  });

  test('only main.ts starts the service: an app whose entry file is router.js imports the library and runs', () => {
    const dir = scratch();
    const app = path.join(dir, 'router.js');
    fs.writeFileSync(app, `require(${JSON.stringify(path.resolve(__dirname, '../scripts/run-ts.js'))});\nrequire(${JSON.stringify(path.resolve(__dirname, '../lib/index.ts'))});\nrequire(${JSON.stringify(path.join(ROUTER_SERVICE_DIR, 'server.ts'))});\nconsole.log('app ran');\n`);
    const result = spawnSync(process.execPath, [app, '--port', '1'], { encoding: 'utf8', timeout: 20_000 });
    expect([result.status, result.stdout, result.stderr]).toEqual([0, 'app ran\n', '']);
  });
});
