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

  test('0 violations of Pod Security "restricted", kube-score critical and Polaris danger checks, beyond the listed exceptions', () => {
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
    ['pss/host-namespaces', (d) => (d.spec.template.spec.hostNetwork = true)],
    ['pss/volume-types', (d) => d.spec.template.spec.volumes.push({ name: 'host', hostPath: { path: '/' } })],
    ['pss/privileged', (d) => (container(d).securityContext.privileged = true)],
    ['pss/capabilities', (d) => (container(d).securityContext.capabilities = { drop: ['ALL'], add: ['NET_ADMIN'] })],
    ['pss/privilege-escalation', (d) => delete container(d).securityContext.allowPrivilegeEscalation],
    ['pss/run-as-non-root', (d) => delete d.spec.template.spec.securityContext.runAsNonRoot],
    ['pss/run-as-user', (d) => (container(d).securityContext.runAsUser = 0)],
    ['pss/seccomp', (d) => delete d.spec.template.spec.securityContext.seccompProfile],
    ['pss/host-ports', (d) => (container(d).ports = [{ containerPort: 80, hostPort: 80 }])],
    ['kube-score/container-resources', (d) => delete container(d).resources.limits.memory],
    ['kube-score/container-image-tag', (d) => (container(d).image = 'nginx:latest')],
    ['kube-score/container-security-context-readonlyrootfilesystem', (d) => (container(d).securityContext.readOnlyRootFilesystem = false)],
    ['kube-score/pod-probes', (d) => delete container(d).readinessProbe],
    ['kube-score/pod-probes-identical', (d) => (container(d).livenessProbe = container(d).readinessProbe)],
    ['kube-score/selector-labels', (d) => (d.spec.selector.matchLabels.app = 'other')],
    ['kube-score/deployment-has-poddisruptionbudget', (d) => (d.spec.replicas = 2)],
    ['platform/service-account-token', (d) => delete d.spec.template.spec.automountServiceAccountToken],
  ])('%s', (check, mutate) => {
    expect(checksOf(mutate)).toContain(check);
  });

  test('kube-score/pod-networkpolicy', () => expect(checksOf(() => undefined, [service])).toEqual(['kube-score/pod-networkpolicy']));
  test('kube-score/statefulset-has-servicename', () => {
    const checks = checksOf((d) => Object.assign(d, { kind: 'StatefulSet', spec: { ...d.spec, serviceName: 'web' } }));
    expect(checks).toEqual(['kube-score/statefulset-has-servicename']);
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
