// The Redis system's public API (re-exported by lib/index.ts).
export { Redis, REDIS_DEFAULT_RESOURCES, REDIS_DEFAULT_DISABLED_COMMANDS, REDIS_EXPORTER_IMAGE, REDIS_EXPORTER_UID, REDIS_IMAGE, REDIS_PATHS, REDIS_UID } from './redis';
export type { RedisClientUser, RedisProps, RedisUsers } from './redis';
export { DEFAULT_USER_OFF, EXPORTER_USER, PROBE_USER, adminUser, clientUser, keyPatternForPrefix, renderAclFile, renderAclUser } from './acl';
export type { RedisAclUser, RedisClientAccess } from './acl';
export { APPEND_FSYNC_MODES, MAX_MEMORY_POLICIES, REDIS_PERSISTENCE_PRESETS, REDIS_PRESETS, renderRedisConf } from './config';
export type { AppendFsync, MaxMemoryPolicy, RdbSaveRule, RedisConfig, RedisPersistenceSettings, RedisPreset } from './config';
export { redisRuleGroup } from './rules';
