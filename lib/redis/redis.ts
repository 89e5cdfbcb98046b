import { ApiObject, Duration, JsonPatch, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { addMonitoring, shippedDashboard } from '../core/monitoring';
import { redisRuleGroup } from './rules';
import { registerConstruct } from '../core/construct';
import { IRedisEndpoint, RedisCredentials } from '../core/endpoints';
import { imageVersion } from '../core/image';
import { constructName, instanceName } from '../core/names';
import { allowConnection } from '../core/network';
import { applyCommonProps, bytesOf, chartNamespace, CommonProps, cpuAndMemory, resolveResources, setEphemeralStorage, SIDECAR_EPHEMERAL_STORAGE } from '../core/props';
import { secretVolume } from '../core/secrets';
import { SecretKeyRef } from '../core/validation';
import { disruptionBudget } from '../core/disruption';
import { recommendedLabels } from '../core/labels';
import { rollOnChange } from '../core/rollout';
import { markForScraping } from '../core/scraping';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext, restrictPod } from '../core/security';
import {
  AppendFsync, MaxMemoryPolicy, RedisPersistenceSettings, REDIS_PERSISTENCE_PRESETS, RdbSaveRule, RedisConfig, RedisPreset, defaultUserAcl, renderRedisConf,
} from './config';
import { DEFAULT_USER_OFF, EXPORTER_USER, PROBE_USER, RedisAclUser, RedisClientAccess, adminUser, clientUser, renderAclFile } from './acl';
import { validateRedisProps } from './validate';
import { AUTH_INIT_SCRIPT, BACKUP_SCRIPT, PROBE_SCRIPT } from './scripts';

/** The official image (Debian): it has the shell, redis-cli, sha256sum and tar the pod relies on. */
export const REDIS_IMAGE = 'redis:7.2.5-bookworm';
/** The official redis_exporter image (scratch, runs as 59000:59000). */
export const REDIS_EXPORTER_IMAGE = 'oliver006/redis_exporter:v1.62.0';
/** The user and group of the official redis image (`useradd -u 999`, `groupadd -g 999`). */
export const REDIS_UID = 999;
/** The user of the redis_exporter image (`USER 59000:59000`). */
export const REDIS_EXPORTER_UID = 59000;

/** Resources of the redis container, each part overridable by `resources`. */
export const REDIS_DEFAULT_RESOURCES = {
  cpu: { request: kplus.Cpu.millis(100), limit: kplus.Cpu.units(1) },
  memory: { request: Size.mebibytes(256), limit: Size.mebibytes(512) },
  // Logs (the data dir is a PersistentVolumeClaim whenever anything persists).
  ephemeralStorage: { request: Size.mebibytes(64), limit: Size.mebibytes(256) },
} as const;

/** Commands the admin (or the password-less default user) cannot run unless `disabledCommands` says otherwise. */
export const REDIS_DEFAULT_DISABLED_COMMANDS: readonly string[] = ['FLUSHALL', 'FLUSHDB', 'CONFIG|SET', 'CONFIG|REWRITE', 'CONFIG|RESETSTAT', 'SHUTDOWN', 'DEBUG', 'MODULE'];

/** Where things are in the pod. */
export const REDIS_PATHS = {
  configDir: '/etc/redis',
  dataDir: '/data',
  passwordDir: '/run/secrets/redis',
  authDir: '/run/redis-auth',
} as const;

/** An application's own Redis user: its name, its password's Secret key, its keys and commands. */
export interface RedisClientUser extends RedisClientAccess {
  /** User name (a DNS label): `AUTH <username> <password>`. */
  readonly username: string;
  /** Its password, from an existing Secret (mounted as a file, never in dist/). */
  readonly password: SecretKeyRef;
}

/**
 * The users of a Redis: `default` is off, each client logs in with its own name and password
 * and may run only what it needs (see README: Users).
 */
export interface RedisUsers {
  /** Password of `admin`: operators, backups (backup.sh) and restores. */
  readonly admin: SecretKeyRef;
  /**
   * Password of `exporter` (redis_exporter's documented read-only commands, no keys).
   * @default - required when metricsExporter is on
   */
  readonly exporter?: SecretKeyRef;
  /**
   * Application clients, each its own user.
   * @default []
   */
  readonly clients?: readonly RedisClientUser[];
}

/** Props of a Redis. Persistence fields left out come from `preset`. */
export interface RedisProps extends CommonProps {
  /**
   * Persistence preset: `cache`, `durable` or `strict` (see README). Any field below overrides it.
   * @default 'durable'
   */
  readonly preset?: RedisPreset;
  /**
   * RDB snapshot rules (`save <seconds> <changes>`); an empty list disables automatic snapshots.
   * @default - the preset's: none for cache, `3600 1`, `300 100`, `60 10000` otherwise
   */
  readonly saveRules?: readonly RdbSaveRule[];
  /**
   * File name of the RDB snapshot in the data directory (what a backup copies).
   * @default 'dump.rdb'
   */
  readonly dbFilename?: string;
  /**
   * Write the append-only file.
   * @default - the preset's: false for cache, true otherwise
   */
  readonly appendOnly?: boolean;
  /**
   * Base name of the AOF files.
   * @default 'appendonly.aof'
   */
  readonly appendFilename?: string;
  /**
   * Folder of the AOF files in the data directory.
   * @default 'appendonlydir'
   */
  readonly appendDirname?: string;
  /**
   * When the AOF is fsynced: `always` (before each acknowledgement), `everysec` or `no`.
   * @default - the preset's: 'always' for strict, 'everysec' otherwise
   */
  readonly appendFsync?: AppendFsync;
  /**
   * Rewrite the AOF when it grew by this percentage since the last rewrite; 0 disables it.
   * @default 100
   */
  readonly autoAofRewritePercentage?: number;
  /**
   * Minimum AOF size for an automatic rewrite.
   * @default Size.mebibytes(64)
   */
  readonly autoAofRewriteMinSize?: Size;
  /**
   * Start from an AOF whose last command is torn, dropping that command.
   * @default true
   */
  readonly aofLoadTruncated?: boolean;
  /**
   * Memory limit of the dataset (`maxmemory`).
   * @default - 60% of memoryLimit: room for the copy-on-write of a snapshot fork, buffers and fragmentation
   */
  readonly maxMemory?: Size;
  /**
   * What happens at `maxMemory`.
   * @default - the preset's: 'allkeys-lru' for cache, 'noeviction' (writes fail) otherwise
   */
  readonly maxMemoryPolicy?: MaxMemoryPolicy;
  /**
   * Port of Redis and of its Services.
   * @default 6379
   */
  readonly port?: number;
  /**
   * Users, each with its password from its own Secret key (mounted as a file, never in dist/);
   * `default` is off, so every client must log in as one of them.
   * @default - no users: `default` without password, any pod that reaches the Service can use Redis
   */
  readonly users?: RedisUsers;
  /**
   * Commands (or `COMMAND|SUBCOMMAND`) the admin user (without `users`: the default user) may not
   * run, on top of what it is refused anyway. PING, INFO, AUTH, HELLO, BGSAVE, LASTSAVE and
   * CONFIG|GET stay allowed: probes, the exporter and backups use them.
   * @default REDIS_DEFAULT_DISABLED_COMMANDS
   */
  readonly disabledCommands?: readonly string[];
  /**
   * Size of the data volume (one PersistentVolumeClaim per pod). Unused when nothing persists.
   * @default Size.gibibytes(1)
   */
  readonly storageSize?: Size;
  /**
   * StorageClass of the data volume.
   * @default - the cluster's default StorageClass
   */
  readonly storageClassName?: string;
  /**
   * The redis image.
   * @default REDIS_IMAGE
   */
  readonly image?: string;
  /**
   * CPU and memory of the redis container; each part left out keeps its default. `maxMemory`
   * defaults to 60% of the memory limit.
   * @default - requests 100m CPU / 256Mi memory, limits 1 CPU / 512Mi memory
   */
  readonly resources?: kplus.ContainerResources;
  /**
   * Run the redis_exporter sidecar and mark the pod for scraping (feeds the Redis dashboard).
   * @default true
   */
  readonly metricsExporter?: boolean;
  /**
   * The redis_exporter image.
   * @default REDIS_EXPORTER_IMAGE
   */
  readonly exporterImage?: string;
  /**
   * Port of the exporter's /metrics.
   * @default 9121
   */
  readonly metricsPort?: number;
  /**
   * How long the exporter waits for Redis (to connect, and for each command) before it reports
   * `redis_up 0`. Keep it under the scrape timeout of the Prometheus that scrapes it (10 s by
   * default): a longer wait on a Redis that hangs fails the scrape instead (TargetDown, a warning)
   * and RedisDown (critical) never fires.
   * @default Duration.seconds(5)
   */
  readonly exporterTimeout?: Duration;
  /**
   * PodDisruptionBudget maxUnavailable: 1 lets a node drain evict Redis (a short outage; the
   * volume keeps the data), 0 blocks voluntary evictions until someone moves it on purpose.
   * @default 1
   */
  readonly maxUnavailable?: number;
  /**
   * Time Redis gets on shutdown to write its final snapshot and fsync the AOF.
   * @default Duration.seconds(60)
   */
  readonly terminationGracePeriod?: Duration;
}

/**
 * A single Redis server with its data on a PersistentVolume: StatefulSet, headless and client
 * Services, redis.conf from a typed model (presets cache, durable, strict), optional ACL users (each password from
 * an existing Secret, redis_exporter sidecar, PodDisruptionBudget. Clients wire to it as an
 * `IRedisEndpoint`.
 */
export class Redis extends Construct implements IRedisEndpoint {
  /** The client Service. */
  public readonly service: kplus.Service;
  /** The headless Service that gives the pod its stable DNS name. */
  public readonly headlessService: kplus.Service;
  /** The StatefulSet (construct id `Resource`). */
  public readonly statefulSet: kplus.StatefulSet;

  /** The pods behind `service` (IRedisEndpoint): clients are let through NetworkPolicies to these. */
  public get workload(): kplus.Workload {
    return this.statefulSet;
  }
  /** The ConfigMap holding redis.conf and the scripts. */
  public readonly configMap: kplus.ConfigMap;
  /** The Service port clients connect to. */
  public readonly port: number;
  /** In-cluster host name of the client Service. */
  public readonly host: string;
  /** The users, if Redis has any (then `default` is off). */
  public readonly users?: RedisUsers;
  /** Whether clients must log in (IRedisEndpoint): true when Redis has users. */
  public readonly requiresAuth: boolean;
  /** The ACL users, in the order of the ACL file (empty without `users`). */
  public readonly aclUsers: readonly RedisAclUser[];
  /** Everything redis.conf says. */
  public readonly config: RedisConfig;
  /** The redis.conf text, as mounted at /etc/redis/redis.conf. */
  public readonly redisConf: string;
  /** Whether anything is written to the data volume (false for the cache preset). */
  public readonly persistent: boolean;
  /** Arguments of redis-server in the pod (the config file, then what must come after it). */
  public readonly serverArgs: readonly string[];

  constructor(scope: Construct, id: string, props: RedisProps = {}) {
    super(scope, id);
    registerConstruct(this);
    const resources = resolveResources(props.resources, REDIS_DEFAULT_RESOURCES);
    validateRedisProps(this, props, resources);

    const memoryLimit = resources.memory.limit;
    const image = props.image ?? REDIS_IMAGE;
    const metricsExporter = props.metricsExporter ?? true;
    const metricsPort = props.metricsPort ?? 9121;
    this.port = props.port ?? 6379;
    this.users = props.users;
    this.requiresAuth = props.users !== undefined;
    const disabledCommands = props.disabledCommands ?? REDIS_DEFAULT_DISABLED_COMMANDS;
    const aclFile = `${REDIS_PATHS.authDir}/users.acl`;
    const clients = props.users?.clients ?? [];
    this.aclUsers = props.users
      ? [DEFAULT_USER_OFF, adminUser(disabledCommands), PROBE_USER, ...(metricsExporter ? [EXPORTER_USER] : []), ...clients.map((c) => clientUser(c.username, c))]
      : [];
    this.config = resolveConfig(props, {
      port: this.port,
      maxMemory: Size.mebibytes(Math.floor((bytesOf(memoryLimit) * 0.6) / 1024 ** 2)),
      users: props.users ? { aclFile } : { defaultUserRules: defaultUserAcl(disabledCommands) },
    });
    this.redisConf = renderRedisConf(this.config);
    this.persistent = this.config.appendOnly || this.config.saveRules.length > 0;
    this.serverArgs = [`${REDIS_PATHS.configDir}/redis.conf`, '--dir', REDIS_PATHS.dataDir];

    const configData: Record<string, string> = {
      'redis.conf': this.redisConf,
      'probe.sh': PROBE_SCRIPT,
      'backup.sh': BACKUP_SCRIPT,
      ...(props.users ? { 'auth-init.sh': AUTH_INIT_SCRIPT, 'users.acl': renderAclFile(this.aclUsers) } : {}),
    };
    this.configMap = new kplus.ConfigMap(this, 'config', { data: configData });
    const name = constructName(this);

    this.headlessService = new kplus.Service(this, 'headless', {
      clusterIP: 'None',
      ports: [{ name: 'redis', port: this.port, targetPort: this.port }],
    });
    // The primary object: named after this construct (`<env>-redis`, pod `<env>-redis-0`).
    this.statefulSet = new kplus.StatefulSet(this, 'Resource', {
      service: this.headlessService,
      replicas: 1,
      securityContext: restrictedPodSecurityContext(REDIS_UID),
      automountServiceAccountToken: false,
      terminationGracePeriod: props.terminationGracePeriod ?? Duration.seconds(60),
    });
    const workload = this.statefulSet;
    const labels = recommendedLabels({ name: 'redis', instance: instanceName(this), component: 'database', version: imageVersion(image) });
    Object.entries(labels).forEach(([key, value]) => workload.podMetadata.addLabel(key, value));
    restrictPod(workload);
    rollOnChange(workload, 'config', ...Object.keys(configData).sort().map((key) => `${key}\0${configData[key]}`));

    const configVolume = kplus.Volume.fromConfigMap(this, 'config-volume', this.configMap, { name: 'config', defaultMode: 0o444 });
    // One Secret volume per user, holding only that user's key: each container mounts only the passwords it uses.
    const secretUsers: [string, SecretKeyRef | undefined][] = [['admin', props.users?.admin], ['exporter', metricsExporter ? props.users?.exporter : undefined], ...clients.map((c): [string, SecretKeyRef] => [c.username, c.password])];
    const passwordVolumes = new Map(secretUsers.filter((entry): entry is [string, SecretKeyRef] => entry[1] !== undefined)
      .map(([name, ref]) => [name, secretVolume(this, `password-${name}-volume`, `password-${name}`, { password: ref }, { defaultMode: 0o440 })]));
    const passwordFile = (name: string) => `${REDIS_PATHS.passwordDir}/${name}/password`;
    const authVolume = kplus.Volume.fromEmptyDir(this, 'auth-volume', 'auth', { medium: kplus.EmptyDirMedium.MEMORY, sizeLimit: Size.mebibytes(1) });
    const probeLogin = props.users ? { user: PROBE_USER.name, passwordFile: `${REDIS_PATHS.authDir}/probe-password` } : undefined;
    const exporterRedisUrl = `redis://127.0.0.1:${this.port}`;

    const redis = workload.addContainer({
      name: 'redis',
      image,
      imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
      // The image's entrypoint stays (it sets umask 0077 for the data files).
      args: ['redis-server', ...this.serverArgs],
      ports: [{ name: 'redis', number: this.port }],
      securityContext: restrictedContainerSecurityContext(REDIS_UID),
      resources: cpuAndMemory(resources),
      readiness: kplus.Probe.fromCommand(probeCommand('ready', this.port, probeLogin), {
        periodSeconds: Duration.seconds(5), timeoutSeconds: Duration.seconds(3), failureThreshold: 3,
      }),
      // Slower and more patient than readiness; accepts LOADING, so a long AOF load is not restarted.
      liveness: kplus.Probe.fromCommand(probeCommand('alive', this.port, probeLogin), {
        initialDelaySeconds: Duration.seconds(10), periodSeconds: Duration.seconds(15), timeoutSeconds: Duration.seconds(5), failureThreshold: 4,
      }),
    });
    setEphemeralStorage(workload, redis, resources.ephemeralStorage);
    redis.mount(REDIS_PATHS.configDir, configVolume, { readOnly: true });
    if (props.users && probeLogin) {
      // The redis container holds the admin's password for backup.sh (kubectl exec), and no other.
      redis.mount(`${REDIS_PATHS.passwordDir}/admin`, passwordVolumes.get('admin')!, { readOnly: true });
      redis.mount(REDIS_PATHS.authDir, authVolume, { readOnly: true });
      const init = workload.addInitContainer({
        name: 'auth',
        image,
        imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
        command: ['sh', `${REDIS_PATHS.configDir}/auth-init.sh`, `${REDIS_PATHS.configDir}/users.acl`, aclFile,
          ...[...passwordVolumes.keys()].flatMap((name) => ['user', name, passwordFile(name)]),
          'generate', probeLogin.user, probeLogin.passwordFile,
          ...(metricsExporter ? ['exporter-json', passwordFile('exporter'), `${REDIS_PATHS.authDir}/exporter.json`, exporterRedisUrl] : [])],
        securityContext: restrictedContainerSecurityContext(REDIS_UID),
        resources: { cpu: { request: kplus.Cpu.millis(10), limit: kplus.Cpu.millis(100) }, memory: { request: Size.mebibytes(16), limit: Size.mebibytes(32) } },
      });
      setEphemeralStorage(workload, init, SIDECAR_EPHEMERAL_STORAGE);
      init.mount(REDIS_PATHS.configDir, configVolume, { readOnly: true });
      for (const [name, volume] of passwordVolumes) init.mount(`${REDIS_PATHS.passwordDir}/${name}`, volume, { readOnly: true });
      init.mount(REDIS_PATHS.authDir, authVolume);
    }

    if (this.persistent) {
      this.addDataVolumeClaim(props.storageSize ?? Size.gibibytes(1), props.storageClassName, { ...labels, ...props.labels });
    } else {
      redis.mount(REDIS_PATHS.dataDir, kplus.Volume.fromEmptyDir(this, 'data-volume', 'data'));
    }

    if (metricsExporter) {
      this.addExporter(props.exporterImage ?? REDIS_EXPORTER_IMAGE, metricsPort, exporterRedisUrl, props.exporterTimeout ?? Duration.seconds(5), props.users && authVolume);
    }

    // The client Service carries the StatefulSet's name: what clients see is `<env>-redis`.
    this.service = new kplus.Service(this, 'service', {
      metadata: { name },
      selector: workload,
      ports: [{ name: 'redis', port: this.port, targetPort: this.port }],
    });
    this.host = `${this.service.name}.${chartNamespace(this, 'Redis', 'its host name')}.svc`;

    const pdb = disruptionBudget(this, 'pdb', workload, { maxUnavailable: props.maxUnavailable });
    for (const metadata of [this.configMap.metadata, this.headlessService.metadata, workload.metadata, this.service.metadata, pdb.metadata]) {
      Object.entries(labels).forEach(([key, value]) => metadata.addLabel(key, value));
    }
    // On-call's view of it: its alerts and its dashboard.
    addMonitoring(this, { ruleGroups: [redisRuleGroup()], dashboards: [shippedDashboard('platform/redis.json')] });
    applyCommonProps(this, props);
  }

  /**
   * Lets `client`'s pods connect to Redis: its ingress policy (and the client's egress policy) where
   * the charts declare default-deny. Every client but the router needs this call.
   */
  public allowFrom(client: kplus.Workload): void {
    allowConnection(client, this.statefulSet, [this.port]);
  }

  /**
   * The credentials of the client user `username` (from `users.clients`), for a client to mount.
   * Throws when Redis has no such user.
   */
  public clientCredentials(username: string): RedisCredentials {
    const client = this.users?.clients?.find((c) => c.username === username);
    if (!client) throw new Error(`Redis '${this.node.path}': no client user '${username}' (users.clients has ${(this.users?.clients ?? []).map((c) => `'${c.username}'`).join(', ') || 'none'})`);
    return { username: client.username, password: client.password };
  }

  /**
   * The redis_exporter sidecar, scraped by Prometheus. With users it logs in as `exporter`, its
   * password read from the JSON file the init step wrote into `authVolume`.
   */
  private addExporter(image: string, port: number, redisUrl: string, timeout: Duration, authVolume: kplus.Volume | undefined): void {
    const exporter = this.statefulSet.addContainer({
      name: 'metrics',
      image,
      imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
      args: [
        `--redis.addr=${redisUrl}`,
        `--web.listen-address=:${port}`,
        `--connection-timeout=${timeout.toMilliseconds()}ms`,
        ...(authVolume ? [`--redis.user=${EXPORTER_USER.name}`, `--redis.password-file=${REDIS_PATHS.authDir}/exporter.json`] : []),
      ],
      ports: [{ name: 'metrics', number: port }],
      securityContext: restrictedContainerSecurityContext(REDIS_EXPORTER_UID),
      resources: { cpu: { request: kplus.Cpu.millis(10), limit: kplus.Cpu.millis(100) }, memory: { request: Size.mebibytes(32), limit: Size.mebibytes(64) } },
      readiness: kplus.Probe.fromHttpGet('/health', { port, periodSeconds: Duration.seconds(10) }),
      liveness: kplus.Probe.fromTcpSocket({ port, initialDelaySeconds: Duration.seconds(10), periodSeconds: Duration.seconds(20) }),
    });
    setEphemeralStorage(this.statefulSet, exporter, SIDECAR_EPHEMERAL_STORAGE);
    if (authVolume) exporter.mount(REDIS_PATHS.authDir, authVolume, { readOnly: true });
    markForScraping(this.statefulSet, { port });
  }

  /**
   * The data volume: a volumeClaimTemplate (cdk8s-plus cannot express one), mounted at /data in
   * the redis container, and kept when the StatefulSet is deleted or scaled down. KubeStatefulSet
   * converts its JSON after patching, so the patch holds typed values (a Quantity, not a string).
   */
  private addDataVolumeClaim(size: Size, storageClassName: string | undefined, labels: Record<string, string>): void {
    const apiObject = ApiObject.of(this.statefulSet);
    apiObject.addJsonPatch(JsonPatch.add('/spec/volumeClaimTemplates', [{
      metadata: { name: 'data', labels },
      spec: {
        accessModes: ['ReadWriteOnce'],
        ...(storageClassName ? { storageClassName } : {}),
        resources: { requests: { storage: kplus.k8s.Quantity.fromString(size.asString()) } },
      },
    }]));
    apiObject.addJsonPatch(JsonPatch.add('/spec/persistentVolumeClaimRetentionPolicy', { whenDeleted: 'Retain', whenScaled: 'Retain' }));
    apiObject.addJsonPatch(JsonPatch.add('/spec/template/spec/containers/0/volumeMounts/-', { name: 'data', mountPath: REDIS_PATHS.dataDir }));
  }
}

/** redis.conf's settings: the preset's, each overridden by its prop if given. */
function resolveConfig(props: RedisProps, fixed: Pick<RedisConfig, 'port' | 'maxMemory' | 'users'>): RedisConfig {
  const preset: RedisPersistenceSettings = REDIS_PERSISTENCE_PRESETS[props.preset ?? 'durable'];
  return {
    port: fixed.port,
    bind: ['*', '-::*'],
    // Without users Redis would refuse other pods; with them, their passwords are what protects it.
    protectedMode: 'aclFile' in fixed.users,
    saveRules: props.saveRules ?? preset.saveRules,
    dbFilename: props.dbFilename ?? preset.dbFilename,
    appendOnly: props.appendOnly ?? preset.appendOnly,
    appendFilename: props.appendFilename ?? preset.appendFilename,
    appendDirname: props.appendDirname ?? preset.appendDirname,
    appendFsync: props.appendFsync ?? preset.appendFsync,
    autoAofRewritePercentage: props.autoAofRewritePercentage ?? preset.autoAofRewritePercentage,
    autoAofRewriteMinSize: props.autoAofRewriteMinSize ?? preset.autoAofRewriteMinSize,
    aofLoadTruncated: props.aofLoadTruncated ?? preset.aofLoadTruncated,
    maxMemory: props.maxMemory ?? fixed.maxMemory,
    maxMemoryPolicy: props.maxMemoryPolicy ?? preset.maxMemoryPolicy,
    users: fixed.users,
  };
}

/** The probe script's command line. */
function probeCommand(mode: 'ready' | 'alive', port: number, login: { user: string; passwordFile: string } | undefined): string[] {
  return ['sh', `${REDIS_PATHS.configDir}/probe.sh`, mode, String(port), ...(login ? [login.user, login.passwordFile] : [])];
}

