import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import type { RedisClientAccess } from './acl';
import type { RedisProps } from './redis';

/** Per-environment Redis settings (plain data, as `ENVIRONMENTS` holds them). */
export interface RedisEnvironmentSettings
  extends Pick<RedisProps, 'preset' | 'storageSize' | 'storageClassName' | 'cpuRequest' | 'cpuLimit' | 'memoryRequest' | 'memoryLimit' | 'metricsExporter' | 'maxUnavailable'> {
  /**
   * Name of the existing Secret that holds one password per Redis user, each under the user's
   * name: `admin`, `exporter`, and one per client (`router`). The platform team creates it out of
   * band (see lib/redis/README.md); the stack only refers to it, so no password is ever in dist/.
   * @default - no users: `default` without password
   */
  readonly usersSecretName?: string;
}

/**
 * The Redis props of an environment: the Secret name becomes one reference per user, to the key
 * named after it; `clients` are the users the environment's applications need (the router's).
 */
export function redisPropsFor(scope: Construct, settings: RedisEnvironmentSettings = {}, clients: readonly ({ readonly username: string } & RedisClientAccess)[] = []): RedisProps {
  const { usersSecretName, ...props } = settings;
  if (usersSecretName === undefined) return props;
  const secret = kplus.Secret.fromSecretName(scope, 'redis-users', usersSecretName);
  return {
    ...props,
    users: {
      admin: { secret, key: 'admin' },
      exporter: (props.metricsExporter ?? true) ? { secret, key: 'exporter' } : undefined,
      clients: clients.map((client) => ({ ...client, password: { secret, key: client.username } })),
    },
  };
}
