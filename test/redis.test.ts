import { Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Redis, RedisProps, RedisUsers, keyPatternForPrefix } from '../lib';
import { K8sObject, environmentChart, findObject, synthEnvironment } from './support/synth';
import { synthRedis, synthRedisFiles } from './redis/server';

const statefulSet = (objects: K8sObject[]) => findObject(objects, 'StatefulSet', 'test-redis');
const podSpec = (objects: K8sObject[]) => statefulSet(objects).spec.template.spec;
const container = (objects: K8sObject[], name: string) => podSpec(objects).containers.find((c: { name: string }) => c.name === name);
const conf = (props: RedisProps) => synthRedisFiles(props)['redis.conf'];

/** The users of a Redis, each password a key of the Secret `redis-users`, plus a client `app` with GET/SET on `app:`. */
function usersIn(): RedisUsers {
  const name = 'redis-users';
  return {
    admin: { name, key: 'admin' },
    exporter: { name, key: 'exporter' },
    clients: [{ username: 'app', password: { name, key: 'app' }, keyPrefixes: ['app:'], commands: ['GET', 'SET'] }],
  };
}

/** Builds a Redis with users in its own chart. */
function synthWithUsers(props: RedisProps = {}) {
  return synthRedis({}, (chart) => new Redis(chart, 'redis', { ...props, users: usersIn() }));
}

describe('Redis', () => {
  test('defaults', () => {
    // GIVEN no props WHEN synthesized THEN the output is as reviewed
    expect(synthRedis().objects).toMatchSnapshot();
  });

  test('durable by default: RDB snapshots and an AOF fsynced every second, on a 1Gi volume claim', () => {
    // GIVEN no props
    const { objects } = synthRedis();
    // THEN redis.conf persists with both, as the seed advises
    const text = findObject(objects, 'ConfigMap', 'test-redis-config').data['redis.conf'];
    expect(text).toContain('\nsave 3600 1 300 100 60 10000\ndbfilename dump.rdb\n');
    expect(text).toContain('\nappendonly yes\nappendfilename appendonly.aof\nappenddirname appendonlydir\nappendfsync everysec\n');
    expect(text).toContain('\nauto-aof-rewrite-percentage 100\nauto-aof-rewrite-min-size 64mb\naof-load-truncated yes\n');
    expect(text).toContain('\nmaxmemory 307mb\nmaxmemory-policy noeviction\n');
    expect(text).not.toMatch(/^dir /m);
    // AND the data lives on a claim from the StatefulSet's template, kept when the set goes
    const spec = statefulSet(objects).spec;
    expect(spec.volumeClaimTemplates).toEqual([expect.objectContaining({
      metadata: expect.objectContaining({ name: 'data' }),
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    })]);
    expect(spec.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: 'Retain', whenScaled: 'Retain' });
    expect(container(objects, 'redis').volumeMounts).toContainEqual({ name: 'data', mountPath: '/data' });
    expect(container(objects, 'redis').args).toEqual(['redis-server', '/etc/redis/redis.conf', '--dir', '/data']);
  });

  test('strict fsyncs the AOF before acknowledging each write', () => {
    expect(conf({ preset: 'strict' })).toMatch(/^appendfsync always$/m);
  });

  test('cache keeps nothing on disk and has no volume claim', () => {
    // GIVEN the cache preset
    const { objects } = synthRedis({ preset: 'cache' });
    // THEN no snapshot rule, no AOF, eviction of least recently used keys
    const text = findObject(objects, 'ConfigMap', 'test-redis-config').data['redis.conf'];
    expect(text).toMatch(/^save ""$/m);
    expect(text).toMatch(/^appendonly no$/m);
    expect(text).toMatch(/^maxmemory-policy allkeys-lru$/m);
    // AND /data is an emptyDir rather than a claim
    expect(statefulSet(objects).spec.volumeClaimTemplates).toBeUndefined();
    expect(podSpec(objects).volumes).toContainEqual({ name: 'data', emptyDir: {} });
  });

  test('any field of a preset can be overridden', () => {
    // GIVEN cache with an AOF, and durable with the seed's save rule and its own sizes
    const cacheWithAof = synthRedis({ preset: 'cache', appendOnly: true, appendFsync: 'no' }).objects;
    const text = conf({ saveRules: [{ seconds: 300, changes: 1000 }], autoAofRewriteMinSize: Size.gibibytes(1), maxMemory: Size.mebibytes(100), appendFilename: 'redis.aof' });
    // THEN only those fields change
    expect(findObject(cacheWithAof, 'ConfigMap', 'test-redis-config').data['redis.conf']).toMatch(/^appendonly yes\n(.*\n){2}appendfsync no$/m);
    expect(statefulSet(cacheWithAof).spec.volumeClaimTemplates).toHaveLength(1);
    expect(text).toMatch(/^save 300 1000$/m);
    expect(text).toMatch(/^auto-aof-rewrite-min-size 1gb$/m);
    expect(text).toMatch(/^maxmemory 100mb$/m);
    expect(text).toMatch(/^appendfilename redis.aof$/m);
    expect(text).toMatch(/^appendfsync everysec$/m);
  });

  test('volume size and StorageClass come from props', () => {
    const { objects } = synthRedis({ storageSize: Size.gibibytes(20), storageClassName: 'fast-ssd' });
    expect(statefulSet(objects).spec.volumeClaimTemplates[0].spec).toEqual({
      accessModes: ['ReadWriteOnce'], storageClassName: 'fast-ssd', resources: { requests: { storage: '20Gi' } },
    });
  });

  test("each user's password comes from its own Secret key as a file: an init step writes the hashes to an ACL file", () => {
    // GIVEN users whose passwords are keys of an existing Secret
    const { objects } = synthWithUsers();
    // THEN no Secret is created and no container gets a password through the environment
    expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
    const spec = podSpec(objects);
    for (const c of [...spec.containers, ...spec.initContainers]) expect(c.env).toBeUndefined();
    // AND each user's key is its own volume, readable by the pod's group only
    for (const user of ['admin', 'exporter', 'app']) {
      expect(spec.volumes).toContainEqual({ name: `password-${user}`, secret: { secretName: 'redis-users', defaultMode: 0o440, items: [{ key: user, path: 'password' }] } });
    }
    // AND redis.conf loads the ACL file the init step writes into a memory-backed emptyDir
    const files = findObject(objects, 'ConfigMap', 'test-redis-config').data;
    expect(files['redis.conf']).toMatch(/^aclfile \/run\/redis-auth\/users.acl$/m);
    expect(files['redis.conf']).toMatch(/^protected-mode yes$/m);
    // AND the users are default (off), admin, probe, exporter and the client, each from nothing (reset)
    expect(files['users.acl'].split('\n')).toEqual([
      'user default reset off resetchannels',
      'user admin reset on ~* &* +@all -@dangerous -script|flush -function|flush +info +config|get +bgsave +lastsave +role +client|list +slowlog|get +slowlog|len +latency|latest +latency|history +latency|doctor'
        + ' -flushall -flushdb -config|set -config|rewrite -config|resetstat -shutdown -debug -module',
      'user probe reset on resetchannels +ping',
      expect.stringMatching(/^user exporter reset on resetchannels \+@connection \+memory .* -client\|kill /),
      'user app reset on ~app:* resetchannels +get +set',
      '',
    ]);
    expect(spec.volumes).toContainEqual({ name: 'auth', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } });
    expect(spec.initContainers).toEqual([expect.objectContaining({
      name: 'auth',
      command: ['sh', '/etc/redis/auth-init.sh', '/etc/redis/users.acl', '/run/redis-auth/users.acl',
        'user', 'admin', '/run/secrets/redis/admin/password', 'user', 'exporter', '/run/secrets/redis/exporter/password', 'user', 'app', '/run/secrets/redis/app/password',
        'generate', 'probe', '/run/redis-auth/probe-password',
        'exporter-json', '/run/secrets/redis/exporter/password', '/run/redis-auth/exporter.json', 'redis://127.0.0.1:6379'],
    })]);
    // AND the redis container holds only the admin's password (backup.sh); the exporter none of the Secret's
    const mounts = (name: string) => container(objects, name).volumeMounts.map((m: { name: string }) => m.name).sort();
    expect(mounts('redis')).toEqual(['auth', 'config', 'data', 'password-admin']);
    expect(mounts('metrics')).toEqual(['auth']);
    // AND the probes log in as probe, the exporter as exporter
    expect(container(objects, 'redis').readinessProbe.exec.command).toEqual(['sh', '/etc/redis/probe.sh', 'ready', '6379', 'probe', '/run/redis-auth/probe-password']);
    expect(container(objects, 'metrics').args).toEqual(expect.arrayContaining(['--redis.user=exporter', '--redis.password-file=/run/redis-auth/exporter.json']));
  });

  test('key prefixes become escaped glob patterns', () => {
    expect(keyPatternForPrefix('tenant:')).toBe('tenant:*');
    expect(keyPatternForPrefix('a*b?[c]\\')).toBe('a\\*b\\?\\[c\\]\\\\*');
  });

  test('without a password, the default user is written inline, with the dangerous commands disabled', () => {
    const text = conf({ disabledCommands: ['FLUSHALL', 'KEYS', 'CONFIG|SET'] });
    expect(text).toMatch(/^user default on nopass ~\* &\* \+@all -flushall -keys -config\|set$/m);
    expect(text).toMatch(/^protected-mode no$/m);
    expect(text).not.toMatch(/^aclfile/m);
  });

  test('every pod meets Pod Security "restricted" with the images\' own users, with resources and distinct probes', () => {
    // GIVEN a Redis with password and exporter
    const spec = podSpec(synthWithUsers().objects);
    // THEN the pod runs as the redis image's user, the volumes are writable by its group, no token
    expect(spec.securityContext).toEqual({
      runAsNonRoot: true, runAsUser: 999, runAsGroup: 999, fsGroup: 999, fsGroupChangePolicy: 'OnRootMismatch', seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(spec.automountServiceAccountToken).toBe(false);
    // AND every container is locked down and sized; the exporter runs as its image's user
    const users: Record<string, number> = { auth: 999, redis: 999, metrics: 59000 };
    for (const c of [...spec.initContainers, ...spec.containers]) {
      expect(c.securityContext).toEqual({
        runAsNonRoot: true, runAsUser: users[c.name], runAsGroup: users[c.name], readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false, privileged: false, capabilities: { drop: ['ALL'] },
      });
      expect(Object.keys(c.resources.requests).sort()).toEqual(['cpu', 'ephemeral-storage', 'memory']);
      expect(Object.keys(c.resources.limits).sort()).toEqual(['cpu', 'ephemeral-storage', 'memory']);
    }
    // AND readiness and liveness differ (liveness tolerates a long AOF load)
    for (const c of spec.containers) {
      expect(c.readinessProbe).toBeDefined();
      expect(c.livenessProbe).toBeDefined();
      expect(c.livenessProbe).not.toEqual(c.readinessProbe);
    }
    expect(spec.containers[0].livenessProbe.exec.command[2]).toBe('alive');
  });

  test('a config change rolls the pod; the same config does not', () => {
    const checksum = (props: RedisProps) => statefulSet(synthRedis(props).objects).spec.template.metadata.annotations['checksum/config'];
    expect(checksum({})).toBe(checksum({ preset: 'durable' }));
    expect(checksum({})).not.toBe(checksum({ appendFsync: 'always' }));
    expect(checksum({})).not.toBe(checksum({ disabledCommands: [] }));
  });

  test('the exporter sidecar marks the pod for scraping; without it, neither', () => {
    // GIVEN the default (exporter on) and an exporter off
    const on = synthRedis().objects;
    const off = synthRedis({ metricsExporter: false }).objects;
    // THEN the exporter serves :9121/metrics from 127.0.0.1's Redis, and Prometheus is told so
    expect(container(on, 'metrics')).toMatchObject({ image: 'oliver006/redis_exporter:v1.62.0', args: ['--redis.addr=redis://127.0.0.1:6379', '--web.listen-address=:9121', '--connection-timeout=5000ms'] });
    expect(statefulSet(on).spec.template.metadata.annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9121', 'prometheus.io/path': '/metrics' });
    expect(podSpec(off).containers.map((c: { name: string }) => c.name)).toEqual(['redis']);
    expect(statefulSet(off).spec.template.metadata.annotations['prometheus.io/scrape']).toBeUndefined();
  });

  test('headless and client Services and the PodDisruptionBudget select the pod', () => {
    const { objects } = synthRedis({ maxUnavailable: 0 });
    const podLabels = statefulSet(objects).spec.template.metadata.labels;
    const headless = findObject(objects, 'Service', 'test-redis-headless');
    const client = findObject(objects, 'Service', 'test-redis');
    expect(headless.spec).toMatchObject({ clusterIP: 'None', ports: [{ name: 'redis', port: 6379, targetPort: 6379 }] });
    expect(statefulSet(objects).spec.serviceName).toBe('test-redis-headless');
    expect(client.spec).toMatchObject({ type: 'ClusterIP', ports: [{ name: 'redis', port: 6379, targetPort: 6379 }] });
    const pdb = findObject(objects, 'PodDisruptionBudget', 'test-redis-pdb');
    expect(pdb.spec.maxUnavailable).toBe(0);
    for (const selector of [headless.spec.selector, client.spec.selector, pdb.spec.selector.matchLabels]) {
      expect(podLabels).toMatchObject(selector);
    }
  });

  test("wires as an IRedisEndpoint: client Service, port, host, and each client's credentials", () => {
    const { redis } = synthRedis({}, (chart) => new Redis(chart, 'redis', { port: 6380, users: usersIn() }));
    expect(redis.service.name).toBe('test-redis');
    expect(redis.port).toBe(6380);
    expect(redis.host).toBe('test-redis.platform-test.svc');
    expect(redis.requiresAuth).toBe(true);
    const credentials = redis.clientCredentials('app');
    expect([credentials.username, credentials.password.name, credentials.password.key]).toEqual(['app', 'redis-users', 'app']);
    expect(() => redis.clientCredentials('router')).toThrow("Redis 'test/redis': no client user 'router' (users.clients has 'app')");
    expect(synthRedis().redis.requiresAuth).toBe(false);
  });

  test('environments: durable everywhere, bigger volume and memory in prod, users from Secret redis-users, the router GET on tenant:*', () => {
    // GIVEN the shipped environments
    const volume = (env: string) => findObject(synthEnvironment(env), 'StatefulSet', `${env}-redis`).spec.volumeClaimTemplates[0].spec.resources.requests.storage;
    // THEN
    expect(['dev', 'staging', 'prod'].map(volume)).toEqual(['1Gi', '5Gi', '20Gi']);
    const prod = synthEnvironment('prod');
    const redis = findObject(prod, 'StatefulSet', 'prod-redis').spec.template.spec;
    expect(redis.containers[0].resources).toEqual({ requests: { cpu: '250m', memory: '1024Mi', 'ephemeral-storage': '64Mi' }, limits: { cpu: '1', memory: '2048Mi', 'ephemeral-storage': '256Mi' } });
    expect(redis.volumes).toContainEqual(expect.objectContaining({ name: 'password-router', secret: expect.objectContaining({ secretName: 'redis-users', items: [{ key: 'router', path: 'password' }] }) }));
    expect(findObject(prod, 'ConfigMap', 'prod-redis-config').data['users.acl']).toMatch(/^user router reset on ~tenant:\* resetchannels \+get$/m);
    expect(findObject(prod, 'ConfigMap', 'prod-redis-config').data['redis.conf']).toMatch(/^appendfsync everysec$/m);
    expect(environmentChart('prod').redis.host).toBe('prod-redis.platform-prod.svc');
  });

  describe('validation', () => {
    const build = (props: RedisProps) => () => synthRedis(props);

    test('fails when appendFsync is not always|everysec|no', () => {
      expect(build({ appendFsync: 'sometimes' as never })).toThrow("Redis 'test/redis': appendFsync must be one of always|everysec|no, got 'sometimes'");
    });

    test('fails when a save rule is not positive whole numbers', () => {
      expect(build({ saveRules: [{ seconds: 300, changes: 1000 }, { seconds: 0, changes: 1.5 }] })).toThrow(
        "Redis 'test/redis' has 2 invalid props:\n  - saveRules[1].seconds must be an integer >= 1, got 0\n  - saveRules[1].changes must be an integer >= 1, got 1.5",
      );
    });

    test('fails when sizes do not fit', () => {
      expect(build({ maxMemory: Size.gibibytes(1), resources: { memory: { limit: Size.mebibytes(512) } } })).toThrow("Redis 'test/redis': maxMemory must be at most resources.memory.limit (512Mi), got '1Gi'");
      expect(build({ storageSize: Size.kibibytes(0.5) })).toThrow("storageSize must be a whole number of bytes, at least 1Mi, got '0.5Ki'");
      expect(build({ resources: { memory: { request: Size.gibibytes(1) } } })).toThrow("resources.memory.request must be at most resources.memory.limit (512Mi, the default), got '1Gi'");
      expect(build({ resources: { memory: { limit: Size.mebibytes(128) } } })).toThrow("resources.memory.limit must be at least resources.memory.request (256Mi, the default), got '128Mi'");
      expect(build({ resources: { cpu: { request: kplus.Cpu.millis(2000) } } })).toThrow("resources.cpu.request must be at most resources.cpu.limit (1, the default), got '2000m'");
    });

    test('fails when ports are out of range or clash', () => {
      expect(build({ port: 70000 })).toThrow("Redis 'test/redis': port must be an integer from 1 to 65535, got 70000");
      expect(build({ port: 9121 })).toThrow("Redis 'test/redis': metricsPort must be different from port (9121), got 9121");
    });

    test('fails when a command the probes, exporter or backups need is disabled', () => {
      expect(build({ disabledCommands: ['FLUSHALL', 'bgsave'] })).toThrow(
        "Redis 'test/redis': disabledCommands[1] must be none of PING, INFO, AUTH, HELLO, BGSAVE, LASTSAVE, CONFIG, CONFIG|GET (probes, exporter and backups use them), got 'bgsave'",
      );
      expect(build({ disabledCommands: ['FLUSH ALL'] })).toThrow("disabledCommands[0] must be a command name or COMMAND|SUBCOMMAND, got 'FLUSH ALL'");
    });

    test('fails when users are not what Redis and the stack allow', () => {
      const client = { username: 'app', password: { name: 's', key: 'app' }, keyPrefixes: ['app:'], commands: ['GET'] };
      expect(build({ users: { admin: { name: 's', key: 'admin' } } })).toThrow(
        "Redis 'test/redis': users.exporter must be a Secret key reference while metricsExporter is on (the exporter logs in as its own user), got undefined",
      );
      expect(build({ metricsExporter: false, users: { admin: { name: 's', key: 'a b' }, clients: [{ ...client, username: 'admin' }, { ...client, keyPrefixes: ['with space'], commands: [] }, client] } })).toThrow(
        "Redis 'test/redis' has 5 invalid props:\n"
        + "  - users.admin.key must be a Secret key (letters, digits, '-', '_' and '.'), got 'a b'\n"
        + "  - users.clients[0].username must be none of default, admin, probe, exporter (the stack's own users), got 'admin'\n"
        + "  - users.clients[1].keyPrefixes[0] must be printable ASCII without spaces, got 'with space'\n"
        + '  - users.clients[1].commands must be at least one command, got []\n'
        + "  - users.clients[].username must be unique, got 'app'",
      );
    });

    test('fails when a file name could leave the data directory', () => {
      expect(build({ dbFilename: '../etc/passwd' })).toThrow("Redis 'test/redis': dbFilename must be a file name of letters, digits, \".\", \"_\" and \"-\", got '../etc/passwd'");
    });

    test('fails when an image is not pinned', () => {
      expect(build({ image: 'redis:latest' })).toThrow("image must be an image pinned to a version (a tag other than 'latest', @sha256:<digest>, or both), got 'redis:latest'");
      expect(build({ exporterImage: 'oliver006/redis_exporter' })).toThrow("exporterImage must be an image pinned to a version");
    });

    test('fails with every bad prop listed at once', () => {
      expect(build({ preset: 'fast' as never, appendFsync: 'often' as never, autoAofRewritePercentage: -1, storageClassName: 'Fast SSD', maxUnavailable: 2, exporterTimeout: Duration.millis(10), terminationGracePeriod: Duration.millis(10) })).toThrow(
        "Redis 'test/redis' has 7 invalid props:\n"
        + "  - preset must be one of cache|durable|strict, got 'fast'\n"
        + "  - appendFsync must be one of always|everysec|no, got 'often'\n"
        + '  - autoAofRewritePercentage must be an integer >= 0, got -1\n'
        + "  - storageClassName must be a StorageClass name (a DNS subdomain: lower-case letters, digits, '-' and '.'), got 'Fast SSD'\n"
        + '  - maxUnavailable must be an integer from 0 to 1, got 2\n'
        + '  - exporterTimeout (milliseconds) must be an integer >= 100, got 10\n'
        + '  - terminationGracePeriod (seconds) must be an integer >= 1, got 0.01',
      );
    });
  });
});
