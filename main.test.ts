import * as fs from 'fs';
import * as path from 'path';
import { Testing } from 'cdk8s';
import { buildApp } from './main';
import { PlatformChart } from './lib';
import { ENVIRONMENTS } from './app/environments';
import { ENVIRONMENT_LABEL } from './lib/core/labels';

describe('the app: one chart per environment', () => {
  // Building the app writes nothing; only synth() does. Snapshots come from memory.
  const distBefore = fs.existsSync('dist') ? fs.statSync('dist').mtimeMs : undefined;
  const app = buildApp({ outdir: '/nonexistent-must-not-be-written' });

  test('has a chart per environment, in order, dev, staging and prod among them', () => {
    expect(app.charts.map((c) => c.node.id)).toEqual(ENVIRONMENTS.map((e) => e.name));
    expect(ENVIRONMENTS.map((e) => e.name)).toEqual(expect.arrayContaining(['dev', 'staging', 'prod']));
  });

  test.each(app.charts.map((c) => [c.node.id, c] as const))('%s matches its snapshot', (_name, chart) => {
    expect(Testing.synth(chart)).toMatchSnapshot();
  });

  test.each(app.charts.map((c) => [c.node.id, c] as const))('%s: every object is labelled with its environment and the stack, namespaced objects in its namespace', (name, chart) => {
    for (const object of Testing.synth(chart)) {
      expect(object.metadata.labels).toMatchObject({ [ENVIRONMENT_LABEL]: name, 'app.kubernetes.io/part-of': 'cdk8s-platform-stack', 'app.kubernetes.io/managed-by': 'cdk8s' });
      if (!['Namespace', 'ClusterRole', 'ClusterRoleBinding'].includes(object.kind)) expect(object.metadata.namespace).toBe((chart as PlatformChart).namespaceName);
    }
  });

  test('each environment namespace enforces Pod Security "restricted"', () => {
    for (const chart of app.charts) {
      const namespace = Testing.synth(chart).find((o) => o.kind === 'Namespace');
      expect(namespace.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
    }
  });

  test('building and snapshotting wrote nothing to disk', () => {
    expect(fs.existsSync('/nonexistent-must-not-be-written')).toBe(false);
    expect(fs.existsSync('dist') ? fs.statSync('dist').mtimeMs : undefined).toBe(distBefore);
    expect(fs.existsSync(path.join(__dirname, '.dist.staging'))).toBe(false);
  });
});
