import { Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import type { RedisEnvironmentSettings } from './redis/environment';

/**
 * One deployment target of the stack. Adding an environment is adding one entry to
 * `ENVIRONMENTS` below: main.ts synthesizes a chart for each into `dist/<name>/`.
 */
export interface EnvironmentConfig {
  /** Environment name: chart id, folder under dist/, the environment label, and a prefix of cluster-wide names. */
  readonly name: string;
  /**
   * Namespace of every namespaced object of this environment.
   * @default `platform-<name>`
   */
  readonly namespace?: string;
  /**
   * Expose the user-facing services on fixed NodePorts (a dev cluster without an ingress).
   * @default false - ClusterIP services, reached through an existing ingress
   */
  readonly exposeNodePorts?: boolean;
  /**
   * Redis of this environment: preset, volume, resources, the name of the password Secret.
   * @default - durable, 1Gi volume on the default StorageClass, no password
   */
  readonly redis?: RedisEnvironmentSettings;
}

/** The environments this repository ships, in the order they are synthesized. */
export const ENVIRONMENTS: readonly EnvironmentConfig[] = [
  {
    name: 'dev',
    exposeNodePorts: true,
    redis: { preset: 'durable', storageSize: Size.gibibytes(1), passwordSecretName: 'redis-auth' },
  },
  {
    name: 'staging',
    redis: { preset: 'durable', storageSize: Size.gibibytes(5), passwordSecretName: 'redis-auth' },
  },
  {
    name: 'prod',
    redis: {
      preset: 'durable',
      storageSize: Size.gibibytes(20),
      passwordSecretName: 'redis-auth',
      cpuRequest: kplus.Cpu.millis(250),
      cpuLimit: kplus.Cpu.units(1),
      memoryRequest: Size.gibibytes(1),
      memoryLimit: Size.gibibytes(2),
    },
  },
];
