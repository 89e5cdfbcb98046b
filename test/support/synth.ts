import * as os from 'os';
import * as path from 'path';
import { App, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { EnvironmentChart, EnvironmentConfig, IPrometheusEndpoint, PlatformChart } from '../../lib';
import { ENVIRONMENTS } from '../../app/environments';
import { restrictPod } from '../../lib';

/** A Kubernetes object as synthesized. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  [key: string]: any;
}

/**
 * An app for tests: like cdk8s `Testing.app()`, without the temporary folder that one creates
 * (and never removes) on every call. Tests synthesize charts in memory; nothing is written here.
 */
export function testApp(): App {
  return new App({ outdir: path.join(os.tmpdir(), 'cdk8s-platform-stack-tests-never-written') });
}

/**
 * The chart of one shipped environment, built in memory (nothing is written to dist/); `change`
 * makes a test's variant of its config (a receiver of the test's own, say).
 */
export function environmentChart(name: string, change: (environment: EnvironmentConfig) => EnvironmentConfig = (e) => e): PlatformChart {
  const environment = ENVIRONMENTS.find((e) => e.name === name);
  if (!environment) throw new Error(`no environment named ${name}`);
  return new PlatformChart(testApp(), environment.name, { environment: change(environment) });
}

/** Every object of one shipped environment. */
export function synthEnvironment(name: string): K8sObject[] {
  return Testing.synth(environmentChart(name)) as K8sObject[];
}

/**
 * Synthesizes an environment without the shipped systems (namespace, default-deny NetworkPolicies)
 * after `build` adds the constructs under test to it.
 */
export function synthWith(build: (chart: EnvironmentChart) => void, environment: EnvironmentConfig = { name: 'test' }): K8sObject[] {
  const chart = new EnvironmentChart(testApp(), environment.name, { environment });
  build(chart);
  return Testing.synth(chart) as K8sObject[];
}

/** The one object of `kind` whose name is `name`; fails the test if there is not exactly one. */
export function findObject(objects: readonly K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.filter((o) => o.kind === kind && o.metadata.name === name);
  if (found.length !== 1) {
    const names = objects.filter((o) => o.kind === kind).map((o) => o.metadata.name);
    throw new Error(`expected one ${kind} named ${name}, found ${found.length} (${kind}s: ${names.join(', ') || 'none'})`);
  }
  return found[0];
}

/** One key of a ConfigMap, as it will be mounted in the pod. */
export function configMapFile(objects: readonly K8sObject[], name: string, key: string): string {
  const data = findObject(objects, 'ConfigMap', name).data ?? {};
  if (!(key in data)) throw new Error(`ConfigMap ${name} has no key ${key} (keys: ${Object.keys(data).join(', ')})`);
  return data[key];
}

/** Builds the constructs under test in a scope of their own. */
export type Build = (scope: Construct) => void;

/** The message `build` fails with; fails the test when it does not throw. */
export function thrownMessage(build: () => unknown): string {
  try {
    build();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected it to fail, it did not');
}

/** Stands in for the Prometheus construct where a test needs only its endpoint: pods, a Service, port and URL. */
export function prometheusStandIn(scope: Construct): IPrometheusEndpoint {
  const workload = restrictPod(new kplus.Deployment(scope, 'prometheus-pods', { containers: [{ image: 'quay.io/prometheus/prometheus:v2.55.1', portNumber: 9090 }] }));
  const service = new kplus.Service(scope, 'prometheus', { selector: workload, ports: [{ port: 9090 }] });
  return { service, port: 9090, url: 'http://test-prometheus.platform-test.svc:9090', workload };
}
