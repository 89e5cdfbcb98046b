// The synthesized redis.conf and scripts, run by a real redis-server on 127.0.0.1. The config file
// is used exactly as synthesized; only port, bind, dir (and the ACL file's path) differ, given on
// the command line (see test/redis/server.ts).
import * as fs from 'fs';
import * as path from 'path';
import { Size } from 'cdk8s';
import { RedisProps } from '../lib';
import { RedisClient } from '../lib/router/service/redis';
import { REDIS_PATHS } from '../lib/redis';
import { configMapFile, findObject, synthEnvironment } from './support/synth';
import { requireEngine, run, tempDir } from './support/engines';
import { RedisError, RespClient } from './redis/resp';
import { PowerLossDisk, mountPowerLossDisk } from './redis/powerloss';
import { PreparedRedisPod, RunningRedis, connect, killAllStarted, preparePod, startRedis, synthRedisFiles, writeFiles } from './redis/server';

jest.setTimeout(30_000);

let work: string;
beforeEach(() => {
  work = tempDir('redis-engine');
});
afterEach(async () => {
  await killAllStarted();
  fs.rmSync(work, { recursive: true, force: true });
});

/** The ConfigMap of a Redis with `props`, written as the pod mounts it; and an empty data folder. */
function prepare(props: RedisProps, name = 'redis'): { conf: string; etc: string; data: string } {
  const etc = writeFiles(path.join(work, name, 'etc'), synthRedisFiles(props));
  const data = path.join(work, name, 'data');
  fs.mkdirSync(data, { recursive: true });
  return { conf: path.join(etc, 'redis.conf'), etc, data };
}

/** The users of the dev environment's Redis, each with a password file as its Secret key is mounted. */
const DEV_PASSWORDS: Record<string, string> = { admin: 'adm1n-pw "quoted" \\ and spaced', exporter: 'exp0rter-pw', router: 'r0uter-pw' };

/** The dev environment's Redis as its pod starts it (see preparePod). */
function prepareDev(): PreparedRedisPod {
  return preparePod(synthEnvironment('dev'), 'dev-redis', work, DEV_PASSWORDS);
}

/** Commands no client may run: each is answered NOPERM. */
const REFUSED_TO_EVERYONE: readonly (readonly (string | number)[])[] = [
  ['ACL', 'SETUSER', 'backdoor', 'on', '>x', '~*', '+@all'], ['ACL', 'SETUSER', 'default', '+flushall'], ['ACL', 'LIST'],
  ['FLUSHALL'], ['FLUSHDB'], ['KEYS', '*'], ['CONFIG', 'SET', 'appendonly', 'no'], ['SWAPDB', '0', '1'], ['MONITOR'],
  ['SYNC'], ['PSYNC', '?', '-1'], ['REPLICAOF', '127.0.0.1', '1'], ['SCRIPT', 'FLUSH'], ['SHUTDOWN'],
];

/** The replies of `commands`, as `COMMAND -> reply` lines: one readable diff when one is off. */
async function replies(client: RespClient, commands: readonly (readonly (string | number)[])[]): Promise<string[]> {
  const lines: string[] = [];
  for (const command of commands) {
    const reply = await client.call(...command);
    lines.push(`${command.join(' ')} -> ${reply instanceof RedisError ? reply.message.split(' ')[0] : 'allowed'}`);
  }
  return lines;
}
const expectAll = (commands: readonly (readonly (string | number)[])[], outcome: string) => commands.map((command) => `${command.join(' ')} -> ${outcome}`);

async function configGet(client: RespClient, names: readonly string[]): Promise<Record<string, string>> {
  const reply = (await client.call('CONFIG', 'GET', ...names)) as string[];
  const result: Record<string, string> = {};
  for (let i = 0; i < reply.length; i += 2) result[reply[i]] = reply[i + 1];
  return result;
}

/**
 * INCRs one counter, each write awaited, for `ms`; then sends one more and kills the server with
 * SIGKILL while it is in flight. Returns what was acknowledged, and when.
 */
async function incrementUntilKilled(server: RunningRedis, ms: number): Promise<{ acked: [number, number][]; sent: number; killedAt: number }> {
  const client = await connect(server);
  const acked: [number, number][] = [];
  let sent = 0;
  const end = Date.now() + ms;
  while (Date.now() < end) {
    sent++;
    acked.push([Date.now(), (await client.call('INCR', 'counter')) as number]);
  }
  sent++;
  const inFlight = client.call('INCR', 'counter').catch(() => undefined);
  const killedAt = Date.now();
  await server.kill9();
  await inFlight;
  client.close();
  return { acked, sent, killedAt };
}

/** The counter after a restart on the same config and data folder. */
async function restartedCounter(conf: string, data: string): Promise<number> {
  const server = await startRedis(conf, data);
  const client = await connect(server);
  const value = Number(await client.call('GET', 'counter'));
  client.close();
  return value;
}

/** The last counter value acknowledged at or before `at` (0 if none). */
function ackedBy(acked: [number, number][], at: number): number {
  return acked.filter(([when]) => when <= at).pop()?.[1] ?? 0;
}

describe('Redis engine (redis-server on 127.0.0.1)', () => {
  test('a missing redis-server fails the run with what to install, never skips', () => {
    // GIVEN a binary that is not installed WHEN an engine test asks for it THEN it throws
    expect(() => requireEngine('redis-server-not-installed', 'redis-server')).toThrow(
      'redis-server-not-installed not found: run `npm run engines` (npm test does it first; it installs the Debian package redis-server)',
    );
    // AND the real one is there
    expect(requireEngine('redis-server', 'redis-server')).toMatch(/redis-server$/);
  });

  test('CONFIG GET shows what each preset declares', async () => {
    // GIVEN the three presets, synthesized with their defaults
    const expected: Record<string, Record<string, string>> = {
      cache: { save: '', appendonly: 'no', 'maxmemory-policy': 'allkeys-lru' },
      durable: { save: '3600 1 300 100 60 10000', appendonly: 'yes', appendfsync: 'everysec', 'maxmemory-policy': 'noeviction' },
      strict: { save: '3600 1 300 100 60 10000', appendonly: 'yes', appendfsync: 'always', 'maxmemory-policy': 'noeviction' },
    };
    for (const preset of ['cache', 'durable', 'strict'] as const) {
      // WHEN redis-server runs each config
      const { conf, data } = prepare({ preset }, preset);
      const server = await startRedis(conf, data);
      const client = await connect(server);
      // THEN the live server has the preset's settings, 60% of the 512Mi memory limit as maxmemory
      const live = await configGet(client, [...Object.keys(expected[preset]), 'maxmemory', 'aof-load-truncated', 'dir']);
      expect(live).toEqual({ ...expected[preset], maxmemory: String(307 * 1024 ** 2), 'aof-load-truncated': 'yes', dir: fs.realpathSync(data) });
      client.close();
      await server.kill9();
    }
  });

  test('CONFIG GET shows every overridden prop', async () => {
    // GIVEN durable with every persistence field overridden (the seed's `save 300 1000` among them)
    const { conf, data } = prepare({
      preset: 'durable',
      saveRules: [{ seconds: 300, changes: 1000 }],
      dbFilename: 'snapshot.rdb',
      appendFilename: 'log.aof',
      appendDirname: 'aof',
      appendFsync: 'no',
      autoAofRewritePercentage: 50,
      autoAofRewriteMinSize: Size.mebibytes(32),
      aofLoadTruncated: false,
      maxMemory: Size.mebibytes(100),
      maxMemoryPolicy: 'volatile-lru',
    });
    // WHEN redis-server runs it
    const server = await startRedis(conf, data);
    const client = await connect(server);
    // THEN each value is what the props said
    expect(await configGet(client, [
      'save', 'dbfilename', 'appendonly', 'appendfilename', 'appenddirname', 'appendfsync', 'auto-aof-rewrite-percentage',
      'auto-aof-rewrite-min-size', 'aof-load-truncated', 'maxmemory', 'maxmemory-policy', 'protected-mode',
    ])).toEqual({
      save: '300 1000',
      dbfilename: 'snapshot.rdb',
      appendonly: 'yes',
      appendfilename: 'log.aof',
      appenddirname: 'aof',
      appendfsync: 'no',
      'auto-aof-rewrite-percentage': '50',
      'auto-aof-rewrite-min-size': String(32 * 1024 ** 2),
      'aof-load-truncated': 'no',
      maxmemory: String(100 * 1024 ** 2),
      'maxmemory-policy': 'volatile-lru',
      'protected-mode': 'no',
    });
    // AND the AOF is where appenddirname says
    await client.call('SET', 'k', 'v');
    expect(fs.readdirSync(path.join(data, 'aof')).sort()).toEqual(['log.aof.1.base.rdb', 'log.aof.1.incr.aof', 'log.aof.manifest']);
    client.close();
  });

  describe("the dev chart's users, each on the real redis-server with the synthesized files", () => {
    let dev: ReturnType<typeof prepareDev>;
    let server: RunningRedis;
    beforeEach(async () => {
      dev = prepareDev();
      server = await startRedis(path.join(dev.etc, 'redis.conf'), dev.data, { aclFile: path.join(dev.auth, 'users.acl'), user: 'admin', password: DEV_PASSWORDS.admin });
      const admin = await connect(server, DEV_PASSWORDS.admin, 'admin');
      await admin.call('SET', 'tenant:acme', 'echo-b');
      await admin.call('SET', 'other:key', 'secret');
      admin.close();
    });

    test('the ACL file holds hashes only; default is off: no login without a user, none as default', async () => {
      const acl = fs.readFileSync(path.join(dev.auth, 'users.acl'), 'utf8');
      for (const password of Object.values(DEV_PASSWORDS)) expect(acl).not.toContain(password.split(' ')[0]);
      expect(acl).not.toContain(fs.readFileSync(dev.local(`${REDIS_PATHS.authDir}/probe-password`), 'utf8'));
      expect(acl.split('\n').filter((line) => / on /.test(line)).every((line) => /#[0-9a-f]{64}$/.test(line))).toBe(true);
      expect(JSON.parse(fs.readFileSync(path.join(dev.auth, 'exporter.json'), 'utf8'))).toEqual({ 'redis://127.0.0.1:6379': DEV_PASSWORDS.exporter });
      const anonymous = await connect(server);
      expect(await anonymous.call('GET', 'tenant:acme')).toEqual(new RedisError('NOAUTH Authentication required.'));
      for (const password of [...Object.values(DEV_PASSWORDS), '']) expect(await anonymous.call('AUTH', 'default', password)).toBeInstanceOf(RedisError);
      expect(await anonymous.call('AUTH', 'router', 'wrong')).toBeInstanceOf(RedisError);
      expect(await anonymous.call('AUTH', DEV_PASSWORDS.admin)).toBeInstanceOf(RedisError);
      anonymous.close();
    });

    test('router: GET on tenant:* and nothing else', async () => {
      const router = await connect(server, DEV_PASSWORDS.router, 'router');
      expect(await router.call('GET', 'tenant:acme')).toBe('echo-b');
      expect(await router.call('GET', 'tenant:none')).toBeNull();
      const refused = [['GET', 'other:key'], ['SET', 'tenant:acme', 'x'], ['DEL', 'tenant:acme'], ['SCAN', '0'], ['INFO'], ['CONFIG', 'GET', '*'], ['PING'], ['EVAL', 'return 1', '0'], ['SUBSCRIBE', 'c'], ...REFUSED_TO_EVERYONE];
      expect(await replies(router, refused)).toEqual(expectAll(refused, 'NOPERM'));
      router.close();
      // AND the router service's own client logs in as router with its password file
      const client = new RedisClient({ host: '127.0.0.1', port: server.port, username: 'router', passwordFile: path.join(dev.secrets, 'router', 'password'), timeoutMs: 1000 });
      expect(await client.command(['GET', 'tenant:acme'])).toBe('echo-b');
      await expect(client.command(['GET', 'other:key'])).rejects.toThrow(/NOPERM/);
      client.close();
    });

    test("exporter: redis_exporter's read-only commands, no key, no CLIENT KILL", async () => {
      const exporter = await connect(server, DEV_PASSWORDS.exporter, 'exporter');
      const allowed = [['PING'], ['INFO', 'ALL'], ['CONFIG', 'GET', 'maxmemory'], ['SLOWLOG', 'LEN'], ['LATENCY', 'LATEST'], ['CLIENT', 'LIST'], ['CLIENT', 'SETNAME', 'redis_exporter'], ['MEMORY', 'STATS'], ['SELECT', '0']];
      expect(await replies(exporter, allowed)).toEqual(expectAll(allowed, 'allowed'));
      const refused = [['GET', 'tenant:acme'], ['SCAN', '0'], ['TYPE', 'tenant:acme'], ['SET', 'k', 'v'], ['EVAL', "return redis.call('GET', 'tenant:acme')", '0'], ['CLIENT', 'KILL', 'TYPE', 'normal'], ['CLIENT', 'PAUSE', '1000'], ...REFUSED_TO_EVERYONE];
      expect(await replies(exporter, refused)).toEqual(expectAll(refused, 'NOPERM'));
      exporter.close();
    });

    test('probe: PING only; probe.sh passes with its generated password and fails without', async () => {
      const probeFile = dev.local(`${REDIS_PATHS.authDir}/probe-password`);
      expect(fs.readFileSync(probeFile, 'utf8')).toMatch(/^[0-9a-f]{64}$/);
      const probe = await connect(server, fs.readFileSync(probeFile, 'utf8'), 'probe');
      expect(await probe.call('PING')).toBe('PONG');
      const refused = [['GET', 'tenant:acme'], ['INFO'], ['CONFIG', 'GET', 'dir'], ['CLIENT', 'LIST'], ...REFUSED_TO_EVERYONE];
      expect(await replies(probe, refused)).toEqual(expectAll(refused, 'NOPERM'));
      probe.close();
      // AND the pod's probe commands, as synthesized, pass; without the password they fail
      const container = findObject(synthEnvironment('dev'), 'StatefulSet', 'dev-redis').spec.template.spec.containers[0];
      for (const command of [container.readinessProbe.exec.command, container.livenessProbe.exec.command] as string[][]) {
        const local = command.map(dev.local).map((arg, i) => (i === 3 ? String(server.port) : arg));
        expect(() => run(local[0], local.slice(1))).not.toThrow();
        expect(() => run(local[0], local.slice(1, 4))).toThrow(/NOAUTH/);
      }
    });

    test('admin: every key and ordinary command, BGSAVE/INFO/CONFIG GET for backups, none of the dangerous ones', async () => {
      const admin = await connect(server, DEV_PASSWORDS.admin, 'admin');
      const allowed = [['GET', 'other:key'], ['SET', 'any:key', 'v'], ['DEL', 'any:key'], ['SCAN', '0'], ['INFO', 'persistence'], ['CONFIG', 'GET', 'dir'], ['LASTSAVE'], ['SLOWLOG', 'GET'], ['CLIENT', 'LIST']];
      expect(await replies(admin, allowed)).toEqual(expectAll(allowed, 'allowed'));
      expect(await replies(admin, REFUSED_TO_EVERYONE)).toEqual(expectAll(REFUSED_TO_EVERYONE, 'NOPERM'));
      expect(await configGet(admin, ['appendonly', 'appendfsync', 'protected-mode'])).toEqual({ appendonly: 'yes', appendfsync: 'everysec', 'protected-mode': 'yes' });
      admin.close();
      // AND the README's backup command (backup.sh as admin) takes a snapshot and prints its path
      expect(run('sh', [path.join(dev.etc, 'backup.sh'), String(server.port), 'admin', path.join(dev.secrets, 'admin', 'password')]).trim()).toBe(path.join(fs.realpathSync(dev.data), 'dump.rdb'));
      // AND as another user it fails
      expect(() => run('sh', [path.join(dev.etc, 'backup.sh'), String(server.port), 'router', path.join(dev.secrets, 'router', 'password')])).toThrow();
    });

    test("the README restore: the admin's backup becomes the AOF base of a fresh volume, and every user works on it", async () => {
      for (let i = 0; i < 10; i++) await (await connect(server, DEV_PASSWORDS.admin, 'admin')).call('RPUSH', 'list', i);
      const backup = path.join(work, 'backup.rdb');
      fs.copyFileSync(run('sh', [path.join(dev.etc, 'backup.sh'), String(server.port), 'admin', path.join(dev.secrets, 'admin', 'password')]).trim(), backup);
      await server.stop();
      // WHEN the restore pod's commands run on an empty data folder
      const target = path.join(work, 'restored');
      fs.mkdirSync(target);
      fs.copyFileSync(backup, path.join(target, 'restore.rdb'));
      run('sh', ['-c', 'cd "$1" && mkdir appendonlydir && mv restore.rdb appendonlydir/appendonly.aof.1.base.rdb && printf "file appendonly.aof.1.base.rdb seq 1 type b\\n" > appendonlydir/appendonly.aof.manifest', 'sh', target]);
      const restored = await startRedis(path.join(dev.etc, 'redis.conf'), target, { aclFile: path.join(dev.auth, 'users.acl'), user: 'admin', password: DEV_PASSWORDS.admin });
      // THEN the data is back and the router reads its key
      const admin = await connect(restored, DEV_PASSWORDS.admin, 'admin');
      expect(await admin.call('LLEN', 'list')).toBe(10);
      admin.close();
      const router = await connect(restored, DEV_PASSWORDS.router, 'router');
      expect(await router.call('GET', 'tenant:acme')).toBe('echo-b');
      router.close();
    });
  });

  test('auth-init.sh refuses an empty password, or one with control characters', () => {
    // GIVEN the dev chart's init script
    const etc = writeFiles(path.join(work, 'etc'), Object.fromEntries(['users.acl', 'auth-init.sh'].map((name) => [name, configMapFile(synthEnvironment('dev'), 'dev-redis-config', name)])));
    const init = (password: string) => () => {
      fs.writeFileSync(path.join(work, 'password'), password);
      run('sh', [path.join(etc, 'auth-init.sh'), path.join(etc, 'users.acl'), path.join(work, 'acl'), 'user', 'admin', path.join(work, 'password')]);
    };
    // WHEN the Secret holds no password, or a multi-line one THEN the init step fails, saying why
    expect(init('\n')).toThrow(/the password file .* is empty/);
    expect(init('two\nlines')).toThrow(/contains control characters/);
    expect(init('tab\there')).toThrow(/contains control characters/);
    expect(fs.existsSync(path.join(work, 'acl'))).toBe(false);
    // AND an enabled user left without a password fails the init step, naming it
    fs.writeFileSync(path.join(work, 'password'), 'fine');
    expect(() => run('sh', [path.join(etc, 'auth-init.sh'), path.join(etc, 'users.acl'), path.join(work, 'acl'), 'user', 'admin', path.join(work, 'password')]))
      .toThrow(/no password for user\(s\) probe exporter router/);
    expect(fs.existsSync(path.join(work, 'acl'))).toBe(false);
  });

  // kill -9 ends the process but not the machine: what Redis wrote, synced or not, is still in the
  // kernel's page cache, so these two prove AOF replay after a process crash, whatever appendfsync
  // says (they pass with appendfsync no). What fsync buys is shown by the power-loss tests below.
  test('AOF replay after a process crash (kill -9): strict restores every acknowledged write', async () => {
    // GIVEN strict (appendfsync always)
    const { conf, data } = prepare({ preset: 'strict' });
    const server = await startRedis(conf, data);
    // WHEN writes are acknowledged one by one, and the server is killed with one in flight
    const { acked, sent } = await incrementUntilKilled(server, 500);
    const restored = await restartedCounter(conf, data);
    // THEN every acknowledged write is there (the one in flight may be, nothing else)
    const lastAcked = acked[acked.length - 1][1];
    console.log(`kill -9, strict: ${acked.length} writes acknowledged, last ${lastAcked}; restored ${restored}`);
    expect(acked.length).toBeGreaterThan(10);
    expect(restored).toBeGreaterThanOrEqual(lastAcked);
    expect(restored).toBeLessThanOrEqual(sent);
  });

  test('AOF replay after a process crash (kill -9): durable restores every write acknowledged more than a second before', async () => {
    // GIVEN durable (appendfsync everysec, which may hold a write back while an fsync runs)
    const { conf, data } = prepare({ preset: 'durable' });
    const server = await startRedis(conf, data);
    // WHEN writes go on for 1.5 s and the server is killed with one in flight
    const { acked, sent, killedAt } = await incrementUntilKilled(server, 1_500);
    const restored = await restartedCounter(conf, data);
    // THEN everything acknowledged before (kill - 1 s) was replayed
    const oneSecondBefore = ackedBy(acked, killedAt - 1_000);
    const lastAcked = acked[acked.length - 1][1];
    console.log(`kill -9, durable: last acknowledged ${lastAcked}, one second before the kill ${oneSecondBefore}; restored ${restored} (lost ${Math.max(0, lastAcked - restored)})`);
    expect(oneSecondBefore).toBeGreaterThan(0);
    expect(restored).toBeGreaterThanOrEqual(oneSecondBefore);
    expect(restored).toBeLessThanOrEqual(sent);
  });

  test('a torn AOF tail is recovered with aof-load-truncated yes, losing only the torn command', async () => {
    // GIVEN durable, two acknowledged writes, then kill -9
    const { conf, data } = prepare({ preset: 'durable' });
    let server = await startRedis(conf, data);
    const client = await connect(server);
    await client.call('SET', 'kept', 'yes');
    await client.call('SET', 'torn', 'a value whose command is cut');
    client.close();
    // (everysec may acknowledge a write it has not yet written while a background fsync runs, up
    // to 2 s: wait until the AOF holds both commands, so the tail this test tears is there.)
    const aofDir = path.join(data, 'appendonlydir');
    const manifest = fs.readFileSync(path.join(aofDir, 'appendonly.aof.manifest'), 'utf8');
    const incrFile = path.join(aofDir, /file (\S+) seq \d+ type i/.exec(manifest)![1]);
    const tail = /\r\ntorn\r\n\$28\r\na value whose command is cut\r\n$/;
    for (const deadline = Date.now() + 5_000; !tail.test(fs.readFileSync(incrFile, 'utf8')) && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 20));
    await server.kill9();
    // WHEN the end of the last command is cut off, as a crash in the middle of a write leaves it
    const bytes = fs.readFileSync(incrFile);
    expect(bytes.toString()).toMatch(tail);
    fs.truncateSync(incrFile, bytes.length - 10);

    // THEN with aof-load-truncated no, Redis refuses to start (the setting matters)
    await expect(startRedis(conf, data, { extraArgs: ['--aof-load-truncated', 'no'] })).rejects.toThrow(/aof-load-truncated/);
    // AND with the chart's yes it starts, with everything but the torn command
    server = await startRedis(conf, data);
    expect(server.output()).toMatch(/Truncating the AOF .* loaded anyway because aof-load-truncated is enabled/s);
    const after = await connect(server);
    expect(await after.call('GET', 'kept')).toBe('yes');
    expect(await after.call('GET', 'torn')).toBeNull();
    after.close();
  });

  test('RDB only: a restart restores the last snapshot, taken by backup.sh', async () => {
    // GIVEN durable without AOF
    const { conf, etc, data } = prepare({ preset: 'durable', appendOnly: false });
    let server = await startRedis(conf, data);
    const client = await connect(server);
    for (let i = 0; i < 100; i++) await client.call('SET', `key:${i}`, i);
    // WHEN a backup snapshot is taken, one more write follows, and the server is killed
    const dump = run('sh', [path.join(etc, 'backup.sh'), String(server.port)]).trim();
    await client.call('SET', 'after-snapshot', 'x');
    client.close();
    await server.kill9();
    expect(fs.existsSync(path.join(data, 'appendonlydir'))).toBe(false);
    expect(dump).toBe(path.join(fs.realpathSync(data), 'dump.rdb'));
    // THEN the restart has the snapshot's 100 keys, and not the later write
    server = await startRedis(conf, data);
    const after = await connect(server);
    expect(await after.call('DBSIZE')).toBe(100);
    expect(await after.call('GET', 'key:42')).toBe('42');
    expect(await after.call('GET', 'after-snapshot')).toBeNull();
    after.close();
  });

  test('a backup restores into a durable Redis as its AOF base (the README procedure)', async () => {
    // GIVEN a durable Redis with data, and a backup taken with backup.sh
    const source = prepare({ preset: 'durable' }, 'source');
    const server = await startRedis(source.conf, source.data);
    const client = await connect(server);
    for (let i = 0; i < 10; i++) await client.call('RPUSH', 'list', i);
    const backup = path.join(work, 'backup.rdb');
    fs.copyFileSync(run('sh', [path.join(source.etc, 'backup.sh'), String(server.port)]).trim(), backup);
    client.close();

    // WHEN a fresh volume gets the backup as the base of a new AOF manifest, and Redis starts on it
    const target = prepare({ preset: 'durable' }, 'target');
    fs.mkdirSync(path.join(target.data, 'appendonlydir'));
    fs.copyFileSync(backup, path.join(target.data, 'appendonlydir', 'appendonly.aof.1.base.rdb'));
    fs.writeFileSync(path.join(target.data, 'appendonlydir', 'appendonly.aof.manifest'), 'file appendonly.aof.1.base.rdb seq 1 type b\n');
    let restored = await startRedis(target.conf, target.data);

    // THEN the data is back, and writes after the restore are durable again
    let after = await connect(restored);
    expect(await after.call('LRANGE', 'list', 0, -1)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    await after.call('RPUSH', 'list', 10);
    after.close();
    await restored.kill9();
    restored = await startRedis(target.conf, target.data);
    after = await connect(restored);
    expect(await after.call('LLEN', 'list')).toBe(11);
    after.close();
  });

  test('cache: a restart starts empty, even after a clean shutdown', async () => {
    // GIVEN the cache preset with data
    const { conf, data } = prepare({ preset: 'cache' });
    let server = await startRedis(conf, data);
    const client = await connect(server);
    await client.call('SET', 'k', 'v');
    expect(await client.call('DBSIZE')).toBe(1);
    client.close();
    // WHEN it shuts down cleanly and starts again
    await server.stop();
    server = await startRedis(conf, data);
    // THEN nothing was written to disk and the dataset is empty
    const after = await connect(server);
    expect(await after.call('DBSIZE')).toBe(0);
    after.close();
    expect(fs.readdirSync(data)).toEqual([]);
  });
});

// Power loss: Redis's data folder on powerlossfs (test/redis/powerloss.ts), which keeps only what
// was fsynced when the "power" goes off. Redis is killed with SIGKILL, then the disk drops its
// unsynced bytes, then Redis starts again on what is left: a machine crash, as far as Redis can tell.
describe('Redis engine on a disk that loses unsynced data at power off', () => {
  let disk: PowerLossDisk;
  beforeAll(async () => {
    disk = await mountPowerLossDisk(path.join(tempDir('redis-powerloss'), 'mnt'));
  }, 30_000); // npm run engines built powerlossfs; mounting takes milliseconds
  afterAll(async () => {
    if (!disk) return;
    await disk.unmount();
    fs.rmSync(path.dirname(disk.mountpoint), { recursive: true, force: true });
  });

  /** The ConfigMap of a Redis with `props` in the temp folder, its data folder on the power-loss disk. */
  function prepareOnDisk(props: RedisProps, name: string): { conf: string; data: string } {
    const { conf } = prepare(props, name);
    const data = path.join(disk.mountpoint, name);
    fs.mkdirSync(data);
    return { conf, data };
  }

  /** Writes for `ms`, kills the server, powers off; returns the restart's counter and the acknowledgements. */
  async function writeThenLosePower(props: RedisProps, name: string, ms: number) {
    const { conf, data } = prepareOnDisk(props, name);
    const { acked, sent, killedAt } = await incrementUntilKilled(await startRedis(conf, data), ms);
    const report = await disk.powerOff();
    const restored = await restartedCounter(conf, data);
    const lastAcked = acked[acked.length - 1][1];
    const firstLost = acked.find(([, value]) => value > restored);
    const window = firstLost ? `, acknowledged in the last ${killedAt - firstLost[0]} ms` : '';
    console.log(`power loss, ${name}: ${acked.length} writes acknowledged in ${ms} ms, last ${lastAcked}; restored ${restored}, lost ${Math.max(0, lastAcked - restored)}${window} (${report})`);
    return { acked, sent, killedAt, restored, lastAcked };
  }

  test('the disk keeps what was fsynced and drops what was not', async () => {
    // GIVEN a file written, fsynced, then written again; and a file never fsynced
    const synced = path.join(disk.mountpoint, 'synced');
    const fd = fs.openSync(synced, 'w');
    fs.writeSync(fd, 'kept');
    fs.fsyncSync(fd);
    fs.writeSync(fd, ' and lost');
    fs.closeSync(fd);
    fs.writeFileSync(path.join(disk.mountpoint, 'unsynced'), 'lost');
    // AND a file fsynced, then overwritten in the middle; and one fsynced after a truncation, then appended to
    const overwritten = path.join(disk.mountpoint, 'overwritten');
    const truncated = path.join(disk.mountpoint, 'truncated');
    for (const [file, change] of [[overwritten, (fd: number) => fs.writeSync(fd, 'XY', 2)], [truncated, (fd: number) => { fs.ftruncateSync(fd, 3); fs.fsyncSync(fd); fs.writeSync(fd, 'Z', 3); }]] as const) {
      const handle = fs.openSync(file, 'w');
      fs.writeSync(handle, 'abcdef');
      fs.fsyncSync(handle);
      change(handle);
      fs.closeSync(handle);
    }
    expect([synced, overwritten, truncated].map((file) => fs.readFileSync(file, 'utf8'))).toEqual(['kept and lost', 'abXYef', 'abcZ']);
    // WHEN the power goes off
    expect(await disk.powerOff()).toBe('power off: 4 files, 16 unsynced bytes dropped');
    // THEN each file holds what its last fsync saw; names stay
    expect([synced, overwritten, truncated].map((file) => fs.readFileSync(file, 'utf8'))).toEqual(['kept', 'abcdef', 'abc']);
    expect(fs.readFileSync(path.join(disk.mountpoint, 'unsynced'), 'utf8')).toBe('');
  });

  test('strict (appendfsync always) loses no acknowledged write', async () => {
    const { acked, sent, restored, lastAcked } = await writeThenLosePower({ preset: 'strict' }, 'strict', 1_000);
    expect(acked.length).toBeGreaterThan(10);
    expect(restored).toBeGreaterThanOrEqual(lastAcked);
    expect(restored).toBeLessThanOrEqual(sent);
  });

  test('durable (appendfsync everysec) loses at most the writes of about the last second', async () => {
    const { acked, sent, killedAt, restored } = await writeThenLosePower({ preset: 'durable' }, 'durable', 2_500);
    // Redis fsyncs once a second from its event loop (10 ticks a second): allow one tick more.
    const beforeLastSecond = ackedBy(acked, killedAt - 1_100);
    expect(beforeLastSecond).toBeGreaterThan(0);
    expect(restored).toBeGreaterThanOrEqual(beforeLastSecond);
    expect(restored).toBeLessThanOrEqual(sent);
  });

  test('appendfsync no loses what durable keeps: the test tells the settings apart', async () => {
    // GIVEN durable with fsync left to the OS (which here never writes back on its own)
    const { acked, killedAt, restored } = await writeThenLosePower({ preset: 'durable', appendFsync: 'no' }, 'no-fsync', 2_500);
    // THEN writes acknowledged well over a second before the power off are gone
    expect(restored).toBeLessThan(ackedBy(acked, killedAt - 1_100));
  });
});
