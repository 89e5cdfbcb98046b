import { Size } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-27';
import type { GrafanaEnvironmentSettings } from './grafana/environment';

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
   * Grafana settings (admin Secret, anonymous access, storage, resources).
   * @default - emptyDir storage, anonymous access off, admin Secret `<name>-grafana-admin`
   */
  readonly grafana?: GrafanaEnvironmentSettings;
}

/** The environments this repository ships, in the order they are synthesized. */
export const ENVIRONMENTS: readonly EnvironmentConfig[] = [
  // dev: anyone reaching the NodePort may look (Viewer), nothing kept across restarts.
  { name: 'dev', exposeNodePorts: true, grafana: { anonymousAccess: true } },
  { name: 'staging' },
  // prod: users, preferences and annotations survive restarts; room for many on-call viewers.
  {
    name: 'prod',
    grafana: {
      storageSize: Size.gibibytes(5),
      resources: { cpu: { request: Cpu.millis(250), limit: Cpu.millis(1000) }, memory: { request: Size.mebibytes(512), limit: Size.gibibytes(1) } },
    },
  },
];
