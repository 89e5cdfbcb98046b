import { Size } from 'cdk8s';
import { IConstruct } from 'constructs';
import { bytesOf, checkCommonProps, checkResources, FullResources } from '../core/props';
import { PropValidator } from '../core/validation';
import { APPEND_FSYNC_MODES, MAX_MEMORY_POLICIES, REDIS_PRESETS } from './config';
import type { RedisProps, RedisUsers } from './redis';

/** Commands the probes, the exporter and the backup script need: they cannot be disabled. */
const REQUIRED_COMMANDS = ['PING', 'INFO', 'AUTH', 'HELLO', 'BGSAVE', 'LASTSAVE', 'CONFIG', 'CONFIG|GET'];
// A file name inside the data directory: written into redis.conf, and Redis joins it to `dir`.
const FILE_NAME = /^(?!\.\.?$)[A-Za-z0-9._-]{1,255}$/;
const COMMAND = /^[A-Za-z][A-Za-z0-9_-]*(\|[A-Za-z][A-Za-z0-9_-]*)?$/;

/** Checks every prop of a Redis; throws one error listing all that are wrong. */
export function validateRedisProps(construct: IConstruct, props: RedisProps, resources: FullResources): void {
  const v = new PropValidator(construct, 'Redis');
  checkCommonProps(v, props);
  if (props.preset !== undefined) v.oneOf('preset', props.preset, REDIS_PRESETS);
  props.saveRules?.forEach((rule, i) => {
    v.integer(`saveRules[${i}].seconds`, rule.seconds, 1);
    v.integer(`saveRules[${i}].changes`, rule.changes, 1);
  });
  for (const prop of ['dbFilename', 'appendFilename', 'appendDirname'] as const) {
    const value = props[prop];
    if (value !== undefined) v.check(typeof value === 'string' && FILE_NAME.test(value), prop, value, 'a file name of letters, digits, ".", "_" and "-"');
  }
  if (props.appendFsync !== undefined) v.oneOf('appendFsync', props.appendFsync, APPEND_FSYNC_MODES);
  if (props.autoAofRewritePercentage !== undefined) v.integer('autoAofRewritePercentage', props.autoAofRewritePercentage, 0);
  if (props.autoAofRewriteMinSize !== undefined) wholeBytes(v, 'autoAofRewriteMinSize', props.autoAofRewriteMinSize, 0);
  if (props.maxMemoryPolicy !== undefined) v.oneOf('maxMemoryPolicy', props.maxMemoryPolicy, MAX_MEMORY_POLICIES);
  if (props.port !== undefined) v.port('port', props.port);
  if (props.metricsPort !== undefined) v.port('metricsPort', props.metricsPort);
  if ((props.metricsExporter ?? true) && (props.port ?? 6379) === (props.metricsPort ?? 9121)) {
    v.fail('metricsPort', props.metricsPort ?? 9121, `different from port (${props.port ?? 6379})`);
  }
  if (props.users !== undefined) validateUsers(v, props.users, props.metricsExporter ?? true);
  props.disabledCommands?.forEach((command, i) => {
    if (!v.check(COMMAND.test(command), `disabledCommands[${i}]`, command, 'a command name or COMMAND|SUBCOMMAND')) return;
    v.check(!REQUIRED_COMMANDS.includes(command.toUpperCase()), `disabledCommands[${i}]`, command, `none of ${REQUIRED_COMMANDS.join(', ')} (probes, exporter and backups use them)`);
  });
  if (props.disabledCommands) v.unique('disabledCommands', props.disabledCommands.map((c) => c.toUpperCase()));
  if (props.storageSize !== undefined) wholeBytes(v, 'storageSize', props.storageSize, 1024 ** 2);
  if (props.storageClassName !== undefined) v.storageClassName('storageClassName', props.storageClassName);
  if (props.image !== undefined) v.pinnedImage('image', props.image);
  if (props.exporterImage !== undefined) v.pinnedImage('exporterImage', props.exporterImage);
  if (props.maxUnavailable !== undefined) v.integer('maxUnavailable', props.maxUnavailable, 0, 1);
  if (props.exporterTimeout !== undefined) v.integer('exporterTimeout (milliseconds)', props.exporterTimeout.toMilliseconds({ integral: false }), 100);
  if (props.terminationGracePeriod !== undefined) v.integer('terminationGracePeriod (seconds)', props.terminationGracePeriod.toSeconds({ integral: false }), 1);

  const memoryLimit = resources.memory.limit;
  const limitOk = props.resources?.memory?.limit === undefined || wholeBytes(v, 'resources.memory.limit', memoryLimit, 16 * 1024 ** 2);
  checkResources(v, 'resources', resources, props.resources);
  if (props.maxMemory !== undefined && wholeBytes(v, 'maxMemory', props.maxMemory, 1024 ** 2) && limitOk) {
    atMost(v, 'maxMemory', props.maxMemory, memoryLimit, 'resources.memory.limit');
  }
  v.throwIfInvalid();
}

/** Users the stack defines itself: a client cannot take their names. */
const RESERVED_USERS = ['default', 'admin', 'probe', 'exporter'];
const USER_NAME = /^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$/;
// An ACL key pattern is one word: no spaces or control characters.
const KEY_PREFIX = /^[\x21-\x7e]{1,200}$/;

function validateUsers(v: PropValidator, users: RedisUsers, metricsExporter: boolean): void {
  v.secretKeyRef('users.admin', users.admin);
  if (users.exporter) v.secretKeyRef('users.exporter', users.exporter);
  else if (metricsExporter) v.fail('users.exporter', undefined, 'a Secret key reference while metricsExporter is on (the exporter logs in as its own user)');
  (users.clients ?? []).forEach((client, i) => {
    const prop = `users.clients[${i}]`;
    if (v.check(USER_NAME.test(client.username), `${prop}.username`, client.username, 'a DNS label of at most 32 characters')) {
      v.check(!RESERVED_USERS.includes(client.username), `${prop}.username`, client.username, `none of ${RESERVED_USERS.join(', ')} (the stack's own users)`);
    }
    v.secretKeyRef(`${prop}.password`, client.password);
    v.check(client.keyPrefixes.length > 0, `${prop}.keyPrefixes`, client.keyPrefixes, 'at least one key prefix');
    client.keyPrefixes.forEach((prefix, j) => v.check(KEY_PREFIX.test(prefix), `${prop}.keyPrefixes[${j}]`, prefix, 'printable ASCII without spaces'));
    v.check(client.commands.length > 0, `${prop}.commands`, client.commands, 'at least one command');
    client.commands.forEach((command, j) => v.check(COMMAND.test(command), `${prop}.commands[${j}]`, command, 'a command name or COMMAND|SUBCOMMAND'));
  });
  if (users.clients) v.unique('users.clients[].username', users.clients.map((c) => c.username));
}

/** A Size that is a whole number of bytes, at least `min`. */
function wholeBytes(v: PropValidator, prop: string, size: Size, min: number): boolean {
  const bytes = bytesOf(size);
  return v.check(Number.isInteger(bytes) && bytes >= min, prop, size.asString(), `a whole number of bytes, at least ${min === 0 ? '0' : `${min / 1024 ** 2}Mi`}`);
}

function atMost(v: PropValidator, prop: string, size: Size, limit: Size, limitProp: string): void {
  v.check(bytesOf(size) <= bytesOf(limit), prop, size.asString(), `at most ${limitProp} (${limit.asString()})`);
}
