import * as path from 'path';
import { ENVIRONMENTS } from '../app/environments';
import { checkObjects } from './policy/checks';
import { EXCEPTIONS, PolicyException } from './policy/exceptions';
import { findSecretMaterial } from './policy/secrets';
import { gateObjects, platformGate, unusedExceptions } from './support/gate';
import { K8sObject } from './support/synth';

/** The exceptions as named in one environment: `Kind/<environment>-<name>`, or `<env>` replaced. */
function exceptionsOf(environment: string): PolicyException[] {
  return EXCEPTIONS.map((e) => ({ ...e, object: e.object.includes('<env>') ? e.object.replace('<env>', environment) : e.object.replace('/', `/${environment}-`) }));
}

// dist/ equals a fresh synth (test/dist.test.ts), so the gate runs on what is applied.
describe.each(ENVIRONMENTS.map((e) => e.name))('platform gate: dist/%s', (environment) => {
  const dir = path.join(__dirname, '..', 'dist', environment);

  test('0 problems: policy (kube-score critical, our own checks) beyond the listed exceptions, secrets, schema (kubeconform -strict), network', async () => {
    expect(await platformGate(dir, { exceptions: exceptionsOf(environment) })).toEqual([]);
  }, 180_000);

  test('every listed exception is still needed', () => {
    expect(unusedExceptions(dir, exceptionsOf(environment))).toEqual([]);
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
    ['pod-security/host-namespaces', (d) => (d.spec.template.spec.hostPID = true)],
    ['pod-security/host-path-volumes', (d) => d.spec.template.spec.volumes.push({ name: 'root', hostPath: { path: '/' } })],
    ['pod-security/restricted', (d) => (container(d).securityContext.allowPrivilegeEscalation = true)],
  ])('%s', (check, mutate) => {
    expect(checksOf(mutate)).toContain(check);
  });

  test('pod-security/namespace-level: a Namespace that does not enforce "restricted"', () => {
    const namespace = (level?: string): K8sObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns', labels: level ? { 'pod-security.kubernetes.io/enforce': level } : {} } });
    expect(checkObjects([namespace('restricted')])).toEqual([]);
    expect(checkObjects([namespace('privileged'), namespace()]).map((v) => v.detail)).toEqual(['enforces privileged, not restricted', 'enforces nothing, not restricted']);
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
  describe('network', () => {
    const scraped = (d: K8sObject) => Object.assign(d.spec.template.metadata, { annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9090' } });
    const prometheus = (): K8sObject => {
      const d = good();
      d.metadata.name = 'prometheus';
      d.spec.selector.matchLabels = d.spec.template.metadata.labels = { 'app.kubernetes.io/name': 'prometheus' };
      container(d).ports = [{ containerPort: 9090 }];
      return d;
    };
    const isolate = (name: string, types: string[], rules: Record<string, unknown> = {}): K8sObject => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: 'ns' }, spec: { podSelector: { matchLabels: { app: 'web' } }, policyTypes: types, ...rules } });
    const networkOf = (objects: K8sObject[], connections = {}) => gateObjects(objects, { connections }).filter((p) => p.startsWith('network'));

    test('nothing when no policy isolates the pods', () => expect(networkOf([good(), prometheus()])).toEqual([]));
    test('a pod isolated for egress without DNS', () => {
      expect(networkOf([good(), isolate('no-egress', ['Egress'])])).toEqual(['network ns/web cannot reach the cluster DNS on 53/UDP', 'network ns/web cannot reach the cluster DNS on 53/TCP']);
    });
    test('a scraped pod that admits only others', () => {
      const d = good();
      scraped(d);
      const onlyFromFrontend = isolate('from-frontend', ['Ingress'], { ingress: [{ from: [{ podSelector: { matchLabels: { app: 'frontend' } } }] }] });
      expect(networkOf([d, prometheus(), onlyFromFrontend])).toEqual(['network ns/prometheus cannot scrape ns/web on 9090']);
    });
    test('an expected connection that is denied, a connection that should be denied, an unknown workload', () => {
      const denyIngress = isolate('deny-ingress', ['Ingress']);
      expect(networkOf([good(), prometheus(), denyIngress], { allowed: [['ns/prometheus', 'ns/web']], denied: [['ns/web', 'ns/prometheus'], ['ns/web', 'ns/nothing']] })).toEqual([
        'network ns/prometheus -> ns/web is denied, but the app wires it',
        'network ns/web -> ns/prometheus is allowed, but nothing wires it',
        'network: no workload ns/nothing (workloads: ns/web, ns/prometheus)',
      ]);
    });
  });
  test('secret material: a Secret with data, a literal password env var and a password in a config file', () => {
    const d = good();
    container(d).env = [{ name: 'REDIS_PASSWORD', value: 'hunter2' }, { name: 'GF_SECURITY_ADMIN_PASSWORD__FILE', value: '/etc/secrets/password' }];
    const secret: K8sObject = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { password: 'aHVudGVyMg==' } };
    const config: K8sObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { 'redis.conf': 'port 6379\nrequirepass hunter2\n', 'grafana.ini': '[security]\nadmin_password = $__file{/etc/secrets/password}\n', 'nginx.conf': 'server_tokens off;\nproxy_pass http://backend;\n' } };
    expect(findSecretMaterial([d, secret, config])).toEqual(['Deployment/web: container web env REDIS_PASSWORD holds a literal value', 'Secret/s: a Secret with values', 'ConfigMap/c: redis.conf sets requirepass']);
  });
});
