import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdk8s';
import { buildApp } from './main';
import { PlatformChart } from './lib';
import { ENVIRONMENTS } from './app/environments';
import { ENVIRONMENT_LABEL } from './lib/core/labels';
import { treeDigest } from './test/support/tree';

describe('the app: one chart per environment', () => {
  // Building the app writes nothing; only synth() does. Snapshots come from memory. What is on disk
  // before: the committed dist/ (every file's bytes), the project folder's entries, and an empty
  // output folder for the app.
  const distBefore = treeDigest(path.join(__dirname, 'dist'));
  const rootBefore = fs.readdirSync(__dirname).sort();
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'main-test-out-'));
  const app = buildApp({ outdir });
  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

  test('has a chart per environment, in order, dev, staging and prod among them', () => {
    expect(app.charts.map((c) => c.node.id)).toEqual(ENVIRONMENTS.map((e) => e.name));
    expect(ENVIRONMENTS.map((e) => e.name)).toEqual(expect.arrayContaining(['dev', 'staging', 'prod']));
  });

  test.each(app.charts.map((c) => [c.node.id, c] as const))('%s matches its snapshot', (_name, chart) => {
    expect(Testing.synth(chart)).toMatchSnapshot();
  });

  test.each(app.charts.map((c) => [c.node.id, c] as const))('%s: every object is labelled with its environment and the stack, namespaced objects in its namespace', (name, chart) => {
    // Prometheus's discovery Roles are where it discovers: its namespace, `default` (the API server's
    // EndpointSlice) and node-exporter's own namespace, where node-exporter's objects are too.
    const own = (chart as PlatformChart).namespaceName;
    const nodeExporterNamespace = `${own}-node-exporter`;
    const discovered = [own, 'default', nodeExporterNamespace];
    for (const object of Testing.synth(chart)) {
      expect(object.metadata.labels).toMatchObject({ [ENVIRONMENT_LABEL]: name, 'app.kubernetes.io/part-of': 'cdk8s-platform-stack', 'app.kubernetes.io/managed-by': 'cdk8s' });
      if (['Role', 'RoleBinding'].includes(object.kind)) expect(discovered).toContain(object.metadata.namespace);
      else if (!['Namespace', 'ClusterRole', 'ClusterRoleBinding'].includes(object.kind)) {
        const expected = object.metadata.name === `${name}-node-exporter` || object.metadata.name === `${name}-node-exporter-only-metrics-scrapers` ? nodeExporterNamespace : own;
        expect(`${object.kind}/${object.metadata.name} in ${object.metadata.namespace}`).toBe(`${object.kind}/${object.metadata.name} in ${expected}`);
      }
    }
  });

  test('each environment namespace enforces Pod Security "restricted"', () => {
    for (const chart of app.charts) {
      const namespace = Testing.synth(chart).find((o) => o.kind === 'Namespace' && o.metadata.name === (chart as PlatformChart).namespaceName);
      expect(namespace.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
    }
  });

  // (A synth that fails on bad input leaves dist/ byte for byte as it was: test/dist.test.ts.)
  test('building and snapshotting wrote nothing to disk', () => {
    for (const chart of app.charts) Testing.synth(chart);
    // THEN the app's output folder is still empty, dist/ holds the same files with the same bytes,
    // and the project folder has no new entry (no staging folder, no stray output)
    expect(fs.readdirSync(outdir)).toEqual([]);
    expect(Object.keys(distBefore).length).toBeGreaterThan(0);
    expect(treeDigest(path.join(__dirname, 'dist'))).toEqual(distBefore);
    expect(fs.readdirSync(__dirname).sort()).toEqual(rootBefore);
  });
});
