import * as fs from 'fs';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';
import { ENVIRONMENTS } from '../app/environments';
import { checkObjects, Violation } from './policy/checks';
import { EXCEPTIONS } from './policy/exceptions';
import { findSecretMaterial } from './policy/secrets';
import { K8sObject, synthEnvironment } from './support/synth';

/** The object name without its `<environment>-` prefix, as exceptions are listed. */
function withoutEnvironment(violation: Violation, environment: string): string {
  const [kind, name] = violation.object.split('/');
  return `${kind}/${name.startsWith(`${environment}-`) ? name.slice(environment.length + 1) : name}`;
}

function dist(environment: string): K8sObject[] {
  const dir = path.join(__dirname, '..', 'dist', environment);
  return fs.readdirSync(dir).flatMap((file) => parseAllDocuments(fs.readFileSync(path.join(dir, file), 'utf8')).map((d) => d.toJS() as K8sObject));
}

describe.each(ENVIRONMENTS.map((e) => e.name))('platform gate: %s', (environment) => {
  const objects = synthEnvironment(environment);

  // Pod Security "restricted" is enforced by the API server (test/cluster.test.ts), kube-score's
  // checks run by kube-score (test/kube-tools.test.ts); these are the checks those tools lack.
  test('0 violations of Polaris danger checks and the platform\'s own, beyond the listed exceptions', () => {
    const violations = checkObjects(objects).filter((v) => !EXCEPTIONS.some((e) => e.check === v.check && e.object === withoutEnvironment(v, environment)));
    expect(violations).toEqual([]);
  });

  test('every listed exception is still needed', () => {
    const violations = checkObjects(objects);
    const unused = EXCEPTIONS.filter((e) => !violations.some((v) => e.check === v.check && e.object === withoutEnvironment(v, environment)));
    expect(unused).toEqual([]);
  });

  test('no secret material in dist/', () => {
    expect(findSecretMaterial(dist(environment))).toEqual([]);
  });
});

// The gate must catch what it claims to: one bad object per check.
describe('the gate catches', () => {
  const good = (): K8sObject => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'ns' },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          automountServiceAccountToken: false,
          securityContext: { runAsNonRoot: true, runAsUser: 101, seccompProfile: { type: 'RuntimeDefault' } },
          volumes: [{ name: 'tmp', emptyDir: {} }],
          containers: [
            {
              name: 'web',
              image: 'nginx:1.27',
              resources: { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '1', memory: '1Gi' } },
              readinessProbe: { httpGet: { path: '/ready', port: 8080 } },
              livenessProbe: { httpGet: { path: '/live', port: 8080 } },
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
            },
          ],
        },
      },
    },
  });
  const service: K8sObject = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'ns' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } };
  const policy: K8sObject = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'web', namespace: 'ns' }, spec: { podSelector: { matchLabels: { app: 'web' } } } };
  const checksOf = (mutate: (d: K8sObject) => void, extra: K8sObject[] = [service, policy]) => {
    const d = good();
    mutate(d);
    return checkObjects([d, ...extra]).map((v) => v.check);
  };
  const container = (d: K8sObject) => d.spec.template.spec.containers[0];

  test('nothing on a good workload', () => expect(checksOf(() => undefined)).toEqual([]));
  test.each<[string, (d: K8sObject) => void]>([
    ['polaris/dangerous-capabilities', (d) => (container(d).securityContext.capabilities = { drop: ['ALL'], add: ['NET_ADMIN'] })],
    ['platform/service-account-token', (d) => delete d.spec.template.spec.automountServiceAccountToken],
  ])('%s', (check, mutate) => {
    expect(checksOf(mutate)).toContain(check);
  });

  test('platform/poddisruptionbudget-selector', () => {
    const pdb: K8sObject = { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web', namespace: 'ns' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'other' } } } };
    expect(checksOf(() => undefined, [service, policy, pdb])).toEqual(['platform/poddisruptionbudget-selector']);
  });
  test('polaris RBAC danger checks', () => {
    const role: K8sObject = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'r' }, rules: [{ apiGroups: [''], resources: ['pods/exec', 'secrets'], verbs: ['*'] }] };
    const binding: K8sObject = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'b' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [] };
    expect(checkObjects([role, binding]).map((v) => v.check)).toEqual(['polaris/rbac-exec-attach', 'polaris/rbac-wildcard', 'polaris/rbac-secrets', 'polaris/cluster-admin-binding']);
  });
  test('secret material: a Secret with data, a literal password env var and a password in a config file', () => {
    const d = good();
    container(d).env = [{ name: 'REDIS_PASSWORD', value: 'hunter2' }, { name: 'GF_SECURITY_ADMIN_PASSWORD__FILE', value: '/etc/secrets/password' }];
    const secret: K8sObject = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { password: 'aHVudGVyMg==' } };
    const config: K8sObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { 'redis.conf': 'port 6379\nrequirepass hunter2\n', 'grafana.ini': '[security]\nadmin_password = $__file{/etc/secrets/password}\n', 'nginx.conf': 'server_tokens off;\nproxy_pass http://backend;\n' } };
    expect(findSecretMaterial([d, secret, config])).toEqual(['Deployment/web: container web env REDIS_PASSWORD holds a literal value', 'Secret/s: a Secret with values', 'ConfigMap/c: redis.conf sets requirepass']);
  });
});
