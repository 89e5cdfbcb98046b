// The real validators of the platform gate (test/support/gate.ts runs them on every environment's
// dist/ in test/policy.test.ts and on the example team app's output in test/package.test.ts)
// catch what the gate relies on them for. Built by `npm run engines`; never skipped.
import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import { kubeconformSchemaDir } from './cluster/kubeconform-schemas';
import { tempDir } from './support/engines';
import { kubeconform, kubeScoreCriticals } from './support/kube-tools';

let dir: string;
beforeEach(() => (dir = tempDir('kube-tools')));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

test('kube-score catches a workload without limits, on a latest tag, with a writable root filesystem and no NetworkPolicy', () => {
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'ns' },
    spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:latest' }] } } },
  };
  fs.writeFileSync(path.join(dir, 'web.yaml'), JSON.stringify(deployment));
  const checks = new Set(kubeScoreCriticals(dir).map((f) => f.check));
  expect([...checks]).toEqual(expect.arrayContaining(['container-resources', 'container-image-tag', 'container-security-context-readonlyrootfilesystem', 'pod-networkpolicy']));
});

test('kubeconform -strict, with the schemas of the local API server, rejects an unknown field inside a pod template', async () => {
  // GIVEN a Deployment whose readiness probe misspells `path`
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'ns' },
    spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'web', image: 'nginx:1', readinessProbe: { httpGet: { port: 80, pth: '/' } } }] } } },
  };
  fs.writeFileSync(path.join(dir, 'web.yaml'), YAML.stringify(deployment));
  // THEN kubeconform says where
  const [resource] = kubeconform(dir, await kubeconformSchemaDir()).resources;
  expect(resource.status).toBe('statusInvalid');
  expect(resource.msg).toMatch(/readinessProbe\/httpGet.*additional properties 'pth' not allowed/);
}, 180_000);

test('kubeconform -strict rejects an unknown kind (the seed\'s extensions/v1beta1 Ingress) instead of skipping it', async () => {
  const ingress = { apiVersion: 'extensions/v1beta1', kind: 'Ingress', metadata: { name: 'web', namespace: 'ns' }, spec: {} };
  fs.writeFileSync(path.join(dir, 'ingress.yaml'), YAML.stringify(ingress));
  const [resource] = kubeconform(dir, await kubeconformSchemaDir()).resources;
  expect(resource.status).toBe('statusError');
}, 180_000);
