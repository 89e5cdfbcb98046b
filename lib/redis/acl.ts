// Redis users as a typed model, rendered into the lines of an ACL file. The password hashes are
// not part of the model: they exist only in the pod, where auth-init.sh appends `#<sha256>` to
// each enabled user's line (see scripts.ts).

/** One Redis user: what it may touch and run. Everything not listed is refused. */
export interface RedisAclUser {
  /** User name (`AUTH <name> <password>`). */
  readonly name: string;
  /** false: the user cannot log in (`off`), whatever its password. */
  readonly enabled: boolean;
  /** Key patterns (globs), e.g. `tenant:*`; none: no key at all. */
  readonly keyPatterns: readonly string[];
  /** Pub/Sub channel patterns; none: no channel. */
  readonly channelPatterns: readonly string[];
  /** Command rules applied in order after `-@all`: `+@all`, `-@dangerous`, `+get`, `-client|kill`. */
  readonly commandRules: readonly string[];
}

/** What a client of Redis needs: keys under some prefixes, and a few commands on them. */
export interface RedisClientAccess {
  /** Key prefixes the client reads or writes, e.g. `tenant:` (every key starting with it). */
  readonly keyPrefixes: readonly string[];
  /** Commands the client runs, e.g. `GET` (or `COMMAND|SUBCOMMAND`). */
  readonly commands: readonly string[];
}

/** A glob pattern matching every key that starts with `prefix` (glob characters escaped). */
export function keyPatternForPrefix(prefix: string): string {
  return `${prefix.replace(/[\\*?[\]]/g, (c) => `\\${c}`)}*`;
}

/**
 * The ACL line of a user. It starts from `reset` (no password, no keys, no channels, no commands,
 * off), so the line says everything the user may do and nothing is inherited from defaults.
 */
export function renderAclUser(user: RedisAclUser): string {
  return [
    'user', user.name, 'reset', user.enabled ? 'on' : 'off',
    ...user.keyPatterns.map((pattern) => `~${pattern}`),
    // `reset` leaves channels to acl-pubsub-default; say it explicitly.
    ...(user.channelPatterns.length > 0 ? user.channelPatterns.map((pattern) => `&${pattern}`) : ['resetchannels']),
    ...user.commandRules,
  ].join(' ');
}

/** The ACL file's text (without password hashes): one line per user. */
export function renderAclFile(users: readonly RedisAclUser[]): string {
  return `${users.map(renderAclUser).join('\n')}\n`;
}

/** The `default` user: off. Every connection must log in as a named user. */
export const DEFAULT_USER_OFF: RedisAclUser = { name: 'default', enabled: false, keyPatterns: [], channelPatterns: [], commandRules: [] };

/**
 * The liveness and readiness probes: PING and nothing else (no key, no INFO). Its password is
 * made in the pod at start and never leaves it.
 */
export const PROBE_USER: RedisAclUser = { name: 'probe', enabled: true, keyPatterns: [], channelPatterns: [], commandRules: ['+ping'] };

/**
 * redis_exporter: the read-only command set its README documents for a dedicated user, narrowed:
 * no key or channel, no SCAN (it lists every key name) and no EVAL (the exporter needs them only
 * for `--check-keys` and `--script`, which this stack does not use), and none of the CLIENT
 * subcommands that act on other connections (the documented `+client` allows CLIENT KILL).
 */
export const EXPORTER_USER: RedisAclUser = {
  name: 'exporter',
  enabled: true,
  keyPatterns: [],
  channelPatterns: [],
  commandRules: [
    '+@connection', '+memory', '-readonly', '+strlen', '+config|get', '+xinfo', '+pfcount', '-quit', '+zcard', '+type', '+xlen',
    '-readwrite', '-command', '+client', '-wait', '+scard', '+llen', '+hlen', '+get', '+slowlog', '+cluster|info',
    '+cluster|slots', '+cluster|nodes', '-hello', '-echo', '+info', '+latency', '-reset', '-auth', '-asking',
    '-client|kill', '-client|pause', '-client|unpause', '-client|no-evict', '-client|reply', '-client|unblock',
  ],
};

/**
 * The admin: operators, backups and restores. Every key and ordinary command, none of
 * `@dangerous` (ACL, FLUSHALL/FLUSHDB, KEYS, CONFIG SET, SWAPDB, MONITOR, SYNC/PSYNC, REPLICAOF,
 * SHUTDOWN, DEBUG, MODULE, ...) nor SCRIPT/FUNCTION FLUSH, except the read-only ones a backup and
 * an on-call look need. `disabledCommands` are taken away last.
 */
export function adminUser(disabledCommands: readonly string[]): RedisAclUser {
  return {
    name: 'admin',
    enabled: true,
    keyPatterns: ['*'],
    channelPatterns: ['*'],
    commandRules: [
      '+@all', '-@dangerous', '-script|flush', '-function|flush',
      '+info', '+config|get', '+bgsave', '+lastsave', '+role', '+client|list', '+slowlog|get', '+slowlog|len', '+latency|latest', '+latency|history', '+latency|doctor',
      ...disabledCommands.map((command) => `-${command.toLowerCase()}`),
    ],
  };
}

/** A client's user: its keys, its commands, nothing else. */
export function clientUser(name: string, access: RedisClientAccess): RedisAclUser {
  return {
    name,
    enabled: true,
    keyPatterns: access.keyPrefixes.map(keyPatternForPrefix),
    channelPatterns: [],
    commandRules: access.commands.map((command) => `+${command.toLowerCase()}`),
  };
}
