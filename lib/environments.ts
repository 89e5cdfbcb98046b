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
}

/** The environments this repository ships, in the order they are synthesized. */
export const ENVIRONMENTS: readonly EnvironmentConfig[] = [
  { name: 'dev', exposeNodePorts: true },
  { name: 'staging' },
  { name: 'prod' },
];
