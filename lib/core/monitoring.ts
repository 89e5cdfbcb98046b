// Each system owns its alerts and dashboards (kube-prometheus's "mixins"): a construct brings them
// as a `Monitoring` child, and the Prometheus and Grafana of the app collect them. A registry per
// App, not a tree walk at synth: cdk8s renders each ConfigMap key and each dashboard ConfigMap
// from what is known when it is made, and a registry with subscribers gives both orders (a system
// made before or after the collector) the same result without rendering anything early.
import * as fs from 'fs';
import * as path from 'path';
import { Chart } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import type { RuleGroup } from '../prometheus/rules';

/** What a system brings for on-call: the rule groups Prometheus evaluates, the dashboards Grafana shows. */
export interface MonitoringProps {
  /**
   * Rule groups about this system; one group of a name per Prometheus (two Redis constructs bring
   * the same `redis` group once: their rules select by namespace and pod).
   * @default - none
   */
  readonly ruleGroups?: readonly RuleGroup[];
  /**
   * Dashboard JSON files (as exported from the Grafana UI), each in a folder that becomes its
   * Grafana folder: `<dir>/<folder>/<name>.json`.
   * @default - none
   */
  readonly dashboards?: readonly string[];
}

/** The rule groups and dashboards of one system (construct id `monitoring` under it). */
export class Monitoring extends Construct {
  /** The Monitoring children of `scope`'s App, in creation order. */
  public static of(scope: IConstruct): readonly Monitoring[] {
    return [...registryOf(scope).entries];
  }

  /** The namespace of the system's chart: the Prometheus that scrapes it evaluates its rules. */
  public readonly namespace?: string;
  public readonly ruleGroups: readonly RuleGroup[];
  /** Absolute paths of the dashboard files. */
  public readonly dashboards: readonly string[];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    this.namespace = Chart.of(this).namespace;
    this.ruleGroups = [...(props.ruleGroups ?? [])];
    this.dashboards = (props.dashboards ?? []).map((file) => path.resolve(file));
    const registry = registryOf(this);
    registry.entries.push(this);
    for (const collect of registry.collectors) collect(this);
  }
}

/**
 * Gives `scope` (a construct of the library or a team's own) its rule groups and dashboards: the
 * app's Prometheus that scrapes its namespace evaluates the rules, the Grafana of its chart shows
 * the dashboards, whichever is made first.
 */
export function addMonitoring(scope: Construct, props: MonitoringProps): Monitoring {
  // `monitoring`, then `monitoring-2`...: a construct may be given more than once (monitorGoService, then the team's own).
  let id = 'monitoring';
  for (let n = 2; scope.node.tryFindChild(id); n++) id = `monitoring-${n}`;
  return new Monitoring(scope, id, props);
}

/**
 * Calls `collect` for every Monitoring of `scope`'s App: those made already, now, and each one
 * made later, when it is made.
 */
export function collectMonitoring(scope: IConstruct, collect: (monitoring: Monitoring) => void): void {
  const registry = registryOf(scope);
  registry.collectors.push(collect);
  for (const monitoring of [...registry.entries]) collect(monitoring);
}

interface Registry {
  readonly entries: Monitoring[];
  readonly collectors: ((monitoring: Monitoring) => void)[];
}

const registries = new WeakMap<IConstruct, Registry>();

function registryOf(scope: IConstruct): Registry {
  const root = scope.node.root;
  let registry = registries.get(root);
  if (!registry) {
    registry = { entries: [], collectors: [] };
    registries.set(root, registry);
  }
  return registry;
}

/**
 * The folder of dashboards this package ships (`dashboards/` beside package.json), found from this
 * module both in the sources (lib/core/) and in the packed package (build/lib/core/).
 */
export function platformDashboardsDir(): string {
  // Found once: every system asks for its shipped dashboards.
  shippedDir ??= findShippedDir();
  return shippedDir;
}

let shippedDir: string | undefined;

function findShippedDir(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return path.join(dir, 'dashboards');
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${__dirname}: cannot find the shipped dashboards/ folder`);
  }
}

/** A dashboard this package ships, by its path under dashboards/ (`platform/redis.json`). */
export function shippedDashboard(file: string): string {
  return path.join(platformDashboardsDir(), file);
}
