import { Size } from 'cdk8s';
import { bytesOf } from '../core/props';

/**
 * How Redis keeps its data across restarts:
 * - `cache`: nothing on disk; a restart starts empty (and evicts least recently used keys when full).
 * - `durable`: RDB snapshots and an AOF fsynced once a second (the seed's "use RDB and AOF").
 *   A process crash loses nothing acknowledged; a machine crash loses at most about one second.
 * - `strict`: as durable, with the AOF fsynced before every write is acknowledged.
 */
export type RedisPreset = 'cache' | 'durable' | 'strict';
export const REDIS_PRESETS: readonly RedisPreset[] = ['cache', 'durable', 'strict'];

/** When Redis fsyncs the AOF: before acknowledging each write, once a second, or when the OS flushes. */
export type AppendFsync = 'always' | 'everysec' | 'no';
export const APPEND_FSYNC_MODES: readonly AppendFsync[] = ['always', 'everysec', 'no'];

/** What Redis does when `maxmemory` is reached. */
export type MaxMemoryPolicy =
  | 'noeviction'
  | 'allkeys-lru'
  | 'allkeys-lfu'
  | 'allkeys-random'
  | 'volatile-lru'
  | 'volatile-lfu'
  | 'volatile-random'
  | 'volatile-ttl';
export const MAX_MEMORY_POLICIES: readonly MaxMemoryPolicy[] = [
  'noeviction', 'allkeys-lru', 'allkeys-lfu', 'allkeys-random', 'volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl',
];

/** An RDB snapshot rule: snapshot after `seconds` if at least `changes` keys changed (`save 300 1000`). */
export interface RdbSaveRule {
  /** Seconds since the last snapshot. */
  readonly seconds: number;
  /** Changed keys since the last snapshot. */
  readonly changes: number;
}

/** The persistence settings of redis.conf, as the presets and props set them. */
export interface RedisPersistenceSettings {
  /** RDB snapshot rules; none writes `save ""` (no automatic snapshots; BGSAVE still works). */
  readonly saveRules: readonly RdbSaveRule[];
  /** File name of the RDB snapshot, inside the data directory. */
  readonly dbFilename: string;
  /** Whether the append-only file is written. */
  readonly appendOnly: boolean;
  /** Base name of the AOF files (Redis 7 writes `<name>.<seq>.base.rdb`, `<name>.<seq>.incr.aof` and a manifest). */
  readonly appendFilename: string;
  /** Folder of the AOF files, inside the data directory. */
  readonly appendDirname: string;
  /** When the AOF is fsynced. */
  readonly appendFsync: AppendFsync;
  /** Rewrite the AOF when it grew by this percentage since the last rewrite; 0 disables automatic rewrites. */
  readonly autoAofRewritePercentage: number;
  /** ...and is at least this big. */
  readonly autoAofRewriteMinSize: Size;
  /** Load an AOF whose last command is torn (a crash mid-write), dropping that command, instead of refusing to start. */
  readonly aofLoadTruncated: boolean;
  /** What happens when `maxmemory` is reached. */
  readonly maxMemoryPolicy: MaxMemoryPolicy;
}

/** Everything redis.conf says, resolved: the single input of `renderRedisConf`. */
export interface RedisConfig extends RedisPersistenceSettings {
  /** TCP port. */
  readonly port: number;
  /** Addresses to listen on (`*` all IPv4, `-::*` all IPv6 if there is any). */
  readonly bind: readonly string[];
  /** Refuse non-loopback clients while the default user has no password. */
  readonly protectedMode: boolean;
  /** Memory limit of the dataset. */
  readonly maxMemory: Size;
  /**
   * Where users come from: an ACL file written at start (it holds a password hash, so it cannot be
   * in the ConfigMap), or the rules of a password-less default user written inline.
   */
  readonly users: { readonly aclFile: string } | { readonly defaultUserRules: string };
}

const DURABLE: RedisPersistenceSettings = {
  // Redis 7's own defaults: a snapshot an hour after one change, 5 min after 100, 1 min after 10000.
  saveRules: [
    { seconds: 3600, changes: 1 },
    { seconds: 300, changes: 100 },
    { seconds: 60, changes: 10000 },
  ],
  dbFilename: 'dump.rdb',
  appendOnly: true,
  appendFilename: 'appendonly.aof',
  appendDirname: 'appendonlydir',
  appendFsync: 'everysec',
  autoAofRewritePercentage: 100,
  autoAofRewriteMinSize: Size.mebibytes(64),
  aofLoadTruncated: true,
  // Data that matters is never evicted: writes fail with OOM instead.
  maxMemoryPolicy: 'noeviction',
};

/** The settings of each preset; props override single fields. */
export const REDIS_PERSISTENCE_PRESETS: Readonly<Record<RedisPreset, RedisPersistenceSettings>> = {
  cache: { ...DURABLE, saveRules: [], appendOnly: false, maxMemoryPolicy: 'allkeys-lru' },
  durable: DURABLE,
  strict: { ...DURABLE, appendFsync: 'always' },
};


/** A byte count in redis.conf's memory units (`kb`, `mb`, `gb` are powers of 1024), as short as exact. */
export function redisMemory(size: Size): string {
  const bytes = bytesOf(size);
  for (const [unit, factor] of [['gb', 1024 ** 3], ['mb', 1024 ** 2], ['kb', 1024]] as const) {
    if (bytes > 0 && bytes % factor === 0) return `${bytes / factor}${unit}`;
  }
  return String(bytes);
}

/** One redis.conf argument: bare when it is a plain word, else double-quoted with escapes. */
function arg(value: string): string {
  if (/^[^\s"'\\]+$/.test(value)) return value;
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

const yesNo = (value: boolean): string => (value ? 'yes' : 'no');

/**
 * Renders redis.conf: the only place that knows its syntax. Deterministic: the same config gives
 * the same text, so its hash rolls the pods exactly when something changed.
 *
 * `dir` is not in the file: Redis changes into it while it reads the file, so a path that exists
 * only in the pod would make the file unusable anywhere else. It is given on the command line
 * (appended after the file), as the engine tests give theirs.
 */
export function renderRedisConf(config: RedisConfig): string {
  const lines: string[] = [];
  const section = (title: string, ...directives: (readonly string[])[]) => {
    if (lines.length > 0) lines.push('');
    lines.push(`# ${title}`);
    for (const words of directives) lines.push(words.map(arg).join(' '));
  };
  const saveArgs = config.saveRules.flatMap((rule) => [String(rule.seconds), String(rule.changes)]);

  section('Network',
    ['port', String(config.port)],
    ['bind', ...config.bind],
    ['protected-mode', yesNo(config.protectedMode)],
  );
  section('Snapshots (RDB)',
    saveArgs.length > 0 ? ['save', ...saveArgs] : ['save', ''],
    ['dbfilename', config.dbFilename],
  );
  section('Append-only file (AOF)',
    ['appendonly', yesNo(config.appendOnly)],
    ['appendfilename', config.appendFilename],
    ['appenddirname', config.appendDirname],
    ['appendfsync', config.appendFsync],
    ['auto-aof-rewrite-percentage', String(config.autoAofRewritePercentage)],
    ['auto-aof-rewrite-min-size', redisMemory(config.autoAofRewriteMinSize)],
    ['aof-load-truncated', yesNo(config.aofLoadTruncated)],
  );
  section('Memory',
    ['maxmemory', redisMemory(config.maxMemory)],
    ['maxmemory-policy', config.maxMemoryPolicy],
  );
  if ('aclFile' in config.users) {
    section('Users', ['aclfile', config.users.aclFile]);
  } else {
    // The ACL rules are one line of their own syntax: written as is, not quoted as one argument.
    section('Users');
    lines.push(config.users.defaultUserRules);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The ACL rule line of the default user when Redis has no `users`: no password, every command and
 * key except `disabledCommands` (`FLUSHALL`, or one subcommand such as `CONFIG|SET`).
 */
export function defaultUserAcl(disabledCommands: readonly string[]): string {
  const words = ['user', 'default', 'on', 'nopass', '~*', '&*', '+@all'];
  return [...words, ...disabledCommands.map((command) => `-${command.toLowerCase()}`)].join(' ');
}
