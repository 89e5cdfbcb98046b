const yaml = require('js-yaml');

// scripts/plan.js: the plan the synth prints (dist.test.ts runs it through the synth command).
const { planChanges, formatPlan, formatFirstPlan, holdsManifests } = require('../scripts/plan');

const deployment = (annotations: Record<string, string>, image = 'app:1') => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'dev-app', namespace: 'platform-dev' },
  spec: { replicas: 1, template: { metadata: { annotations }, spec: { containers: [{ name: 'app', image }, { name: 'sidecar', image: 'side:1' }] } } },
});
const configMap = (data: Record<string, string>, name = 'dev-app') => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'platform-dev' }, data });
const files = (entries: Record<string, unknown>) => new Map(Object.entries(entries).map(([file, o]) => [file, typeof o === 'string' ? o : yaml.dump(o)]));

describe('planChanges', () => {
  test('a changed ConfigMap and the Deployment whose checksum annotation follows it: changed, and the Deployment rolls', () => {
    const before = files({ 'dev/ConfigMap.dev-app.k8s.yaml': configMap({ a: '1' }), 'dev/Deployment.dev-app.k8s.yaml': deployment({ 'checksum/config': 'x' }), 'prod/ConfigMap.prod-app.k8s.yaml': configMap({ a: '1' }, 'prod-app') });
    const after = files({ 'dev/ConfigMap.dev-app.k8s.yaml': configMap({ a: '2' }), 'dev/Deployment.dev-app.k8s.yaml': deployment({ 'checksum/config': 'y' }), 'prod/ConfigMap.prod-app.k8s.yaml': configMap({ a: '1' }, 'prod-app') });
    expect(planChanges(before, after)).toEqual({
      environments: {
        dev: {
          added: [],
          changed: [{ kind: 'ConfigMap', name: 'dev-app', paths: ['data.a'] }, { kind: 'Deployment', name: 'dev-app', paths: ['spec.template.metadata.annotations.checksum/config'] }],
          removed: [],
          rolls: [{ kind: 'Deployment', name: 'dev-app', podTemplate: ['metadata.annotations.checksum/config'] }],
          objects: 2,
        },
        prod: { added: [], changed: [], removed: [], rolls: [], objects: 1 },
      },
    });
  });

  test('a workload changed outside its pod template does not roll; containers are named by name', () => {
    const scaled = { ...deployment({}), spec: { ...deployment({}).spec, replicas: 3 } };
    const plan = planChanges(files({ 'dev/d.yaml': deployment({}) }), files({ 'dev/d.yaml': scaled }));
    expect(plan.environments.dev.changed).toEqual([{ kind: 'Deployment', name: 'dev-app', paths: ['spec.replicas'] }]);
    expect(plan.environments.dev.rolls).toEqual([]);
    const newImage = planChanges(files({ 'dev/d.yaml': deployment({}) }), files({ 'dev/d.yaml': deployment({}, 'app:2') }));
    expect(newImage.environments.dev.rolls).toEqual([{ kind: 'Deployment', name: 'dev-app', podTemplate: ['spec.containers[app].image'] }]);
  });

  test('added and removed objects, files of several documents, and a whole environment removed', () => {
    const two = `${yaml.dump(configMap({}, 'dev-a'))}---\n${yaml.dump(configMap({}, 'dev-b'))}`;
    const plan = planChanges(files({ 'dev/x.yaml': two, 'qa/ConfigMap.qa.k8s.yaml': configMap({}, 'qa') }), files({ 'dev/x.yaml': yaml.dump(configMap({}, 'dev-a')), 'dev/y.yaml': configMap({}, 'dev-c'), 'construct-metadata.json': '{}' }));
    expect(plan.environments.dev).toMatchObject({ added: [{ kind: 'ConfigMap', name: 'dev-c' }], changed: [], removed: [{ kind: 'ConfigMap', name: 'dev-b' }] });
    expect(plan.environments.qa).toMatchObject({ added: [], removed: [{ kind: 'ConfigMap', name: 'qa' }], objects: 0 });
    expect(Object.keys(plan.environments)).toEqual(['dev', 'qa']);
  });

  test('unchanged files are not parsed: an unparseable file that did not change is no error', () => {
    const broken = 'key: [unclosed\n';
    expect(planChanges(files({ 'dev/a.yaml': broken }), files({ 'dev/a.yaml': broken })).environments.dev).toEqual({ added: [], changed: [], removed: [], rolls: [], objects: 1 });
  });
});

describe('formatPlan', () => {
  test('one line when nothing changed', () => {
    const same = files({ 'dev/a.yaml': configMap({}), 'prod/b.yaml': configMap({}, 'prod-app') });
    expect(formatPlan(planChanges(same, same), 'dist')).toBe('plan: no changes to dist (2 environments, 2 objects)');
  });

  test('per environment that changed: counts, each object, what rolls; the others on one line; long path lists cut', () => {
    const many = Object.fromEntries(['a', 'b', 'c', 'd', 'e', 'f'].map((k) => [k, k]));
    const plan = planChanges(
      files({ 'dev/c.yaml': configMap({}), 'dev/d.yaml': deployment({ 'checksum/config': 'x' }), 'prod/p.yaml': configMap({}, 'prod-app') }),
      files({ 'dev/c.yaml': configMap(many), 'dev/d.yaml': deployment({ 'checksum/config': 'y' }), 'dev/n.yaml': configMap({}, 'dev-new'), 'prod/p.yaml': configMap({}, 'prod-app') }),
    );
    expect(formatPlan(plan, 'dist')).toBe([
      'plan: changes to dist',
      'dev: 1 to add, 2 to change, 0 to remove',
      '  + ConfigMap dev-new',
      '  ~ ConfigMap dev-app: data.a, data.b, data.c, data.d and 2 more',
      '  ~ Deployment dev-app: spec.template.metadata.annotations.checksum/config',
      '  rolls Deployment dev-app: pod template metadata.annotations.checksum/config',
      'no changes: prod',
    ].join('\n'));
  });

  test('into a folder that held no manifests: one line of counts per environment', () => {
    const after = files({ 'dev/a.yaml': configMap({}), 'dev/b.yaml': configMap({}, 'b'), 'prod/c.yaml': configMap({}, 'c'), 'construct-metadata.json': '{}' });
    expect(holdsManifests(new Map([['construct-metadata.json', '{}']]))).toBe(false);
    expect(holdsManifests(after)).toBe(true);
    expect(formatFirstPlan(after, 'dist')).toBe('plan: dist held no manifests: 3 objects to add (dev 2, prod 1)');
  });
});
