import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import type { RedisProps } from './redis';

/** Per-environment Redis settings (plain data, as `ENVIRONMENTS` holds them). */
export interface RedisEnvironmentSettings
  extends Pick<RedisProps, 'preset' | 'storageSize' | 'storageClassName' | 'cpuRequest' | 'cpuLimit' | 'memoryRequest' | 'memoryLimit' | 'metricsExporter' | 'maxUnavailable'> {
  /**
   * Name of the existing Secret that holds the password. The platform team creates it out of
   * band (`kubectl create secret generic redis-auth --from-literal=password=...`); the stack only
   * refers to it, so no password is ever in dist/.
   * @default - no password
   */
  readonly passwordSecretName?: string;
  /**
   * Key of the password in that Secret.
   * @default 'password'
   */
  readonly passwordSecretKey?: string;
}

/** The Redis props of an environment: the Secret name becomes a reference to that Secret. */
export function redisPropsFor(scope: Construct, settings: RedisEnvironmentSettings = {}): RedisProps {
  const { passwordSecretName, passwordSecretKey, ...props } = settings;
  if (passwordSecretName === undefined) return props;
  const secret = kplus.Secret.fromSecretName(scope, 'redis-password', passwordSecretName);
  return { ...props, password: { secret, key: passwordSecretKey ?? 'password' } };
}
