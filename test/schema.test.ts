import { Prometheus } from '../lib';
import { ENVIRONMENTS } from '../app/environments';
import { K8sSchemaValidator } from './support/k8s-schema';
import { K8sObject, synthEnvironment, synthWith } from './support/synth';

const validator = new K8sSchemaValidator();

describe('strict Kubernetes 1.27 schema validation', () => {
  test.each(ENVIRONMENTS.map((e) => e.name))('every object of %s is valid, unknown fields rejected', (name) => {
    // GIVEN the synthesized environment
    const objects = synthEnvironment(name);
    // WHEN each object is validated
    const invalid = objects.map((o) => ({ object: `${o.kind}/${o.metadata.name}`, problems: validator.validate(o) })).filter((r) => r.problems.length > 0);
    // THEN none is invalid
    expect(objects.length).toBeGreaterThan(0);
    expect(invalid).toEqual([]);
  });

  // The validator itself must catch what kubeconform -strict and the API server catch.
  const base: K8sObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ok', namespace: 'ns' }, data: { 'a.yaml': 'x' } };

  test('accepts a valid object', () => {
    expect(validator.validate(base)).toEqual([]);
  });

  test('rejects an unknown field, top-level and nested', () => {
    expect(validator.validate({ ...base, extra: 1 })).toEqual(['/ must NOT have additional properties: extra']);
    expect(validator.validate({ ...base, metadata: { ...base.metadata, lables: {} } as K8sObject['metadata'] })).toEqual(['/metadata must NOT have additional properties: lables']);
  });

  test('rejects a wrong type, an invalid name and a namespaced cluster-scoped object', () => {
    expect(validator.validate({ ...base, data: { a: 1 } })).toEqual(['/data/a must be string']);
    expect(validator.validate({ ...base, metadata: { name: 'Bad_Name' } })).toEqual(["/metadata/name 'Bad_Name' is not a valid DNS subdomain"]);
    expect(validator.validate({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a', namespace: 'a' } })).toEqual(['/metadata/namespace set on cluster-scoped Namespace']);
  });

  test('rejects an unknown kind and a removed API group', () => {
    expect(validator.validate({ ...base, apiVersion: 'extensions/v1beta1', kind: 'Ingress' })).toEqual(['unknown apiVersion/kind extensions/v1beta1/Ingress']);
  });

  test('rejects an unknown field inside a pod template', () => {
    const deployment: K8sObject = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'web', image: 'nginx:1', readinessProbe: { httpGet: { port: 80, pth: '/' } } }] } } },
    };
    expect(validator.validate(deployment)).toEqual(['/spec/template/spec/containers/0/readinessProbe/httpGet must NOT have additional properties: pth']);
  });
});

describe('strict validation of the optional prometheus-operator objects', () => {
  test('ServiceMonitor and PrometheusRule of a Prometheus with prometheusOperator on are valid', () => {
    // GIVEN a Prometheus that also emits prometheus-operator objects
    const objects = synthWith((chart) => new Prometheus(chart, 'prometheus', { prometheusOperator: true }));
    const operatorObjects = objects.filter((o) => o.apiVersion.startsWith('monitoring.coreos.com/'));
    // WHEN / THEN each validates against its CRD's schema, unknown fields rejected
    expect(operatorObjects.map((o) => o.kind).sort()).toEqual(expect.arrayContaining(['PrometheusRule', 'ServiceMonitor']));
    expect(operatorObjects.map((o) => validator.validate(o))).toEqual(operatorObjects.map(() => []));
    expect(validator.validate({ ...operatorObjects[0], spec: { ...operatorObjects[0].spec, bogus: 1 } })).toContain('/spec must NOT have additional properties: bogus');
  });
});
