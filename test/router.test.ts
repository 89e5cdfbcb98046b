import * as fs from 'fs';
import { Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Backend, Nginx } from '../lib/nginx';
import { Router, RouterProps } from '../lib/router';
import { ROUTER_MODULES, routerSources } from '../lib/router/router';
import { tempDir } from './support/engines';
import * as path from 'path';
import { K8sObject, configMapFile, findObject, synthWith } from './support/synth';
import { ROUTER_SERVICE_DIR } from './nginx/stack';
import { restrictPod } from '../lib';

const rules: RouterProps['rules'] = [
  { strategy: 'pathPrefix', params: { prefix: '/b/', target: 'app-b' } },
  { strategy: 'weighted', params: { weights: { 'app-a': 90, 'app-b': 10 }, stickyBy: { cookie: 'session' } } },
];

function synthRouter(props: Partial<RouterProps> = {}): K8sObject[] {
  return synthWith((chart) => {
    new Router(chart, 'router', { targets: ['app-a', 'app-b'], rules, ...props });
  });
}

function withRedis(chart: Chart) {
  const workload = restrictPod(new kplus.Deployment(chart, 'redis-pods', { replicas: 1, containers: [{ image: 'redis:7.4', portNumber: 6379 }] }));
  const service = new kplus.Service(chart, 'redis', { selector: workload, ports: [{ port: 6379 }] });
  return { service, port: 6379, host: 'test-redis.platform-test.svc', requiresAuth: true, workload };
}

function routerCredentials() {
  return { username: 'router', password: { name: 'redis-users', key: 'router' } };
}

/** The source is checked against the file below; the snapshot keeps the rest reviewable. */
function masked(objects: K8sObject[]): K8sObject[] {
  return objects.map((o) => {
    const copy = JSON.parse(JSON.stringify(o));
    for (const name of ROUTER_MODULES) if (copy.data?.[`${name}.ts`]) copy.data[`${name}.ts`] = `<lib/router/service/${name}.ts>`;
    const annotations = copy.spec?.template?.metadata?.annotations;
    if (annotations?.['checksum/router-config']) annotations['checksum/router-config'] = '<checksum>';
    return copy;
  });
}

describe('Router', () => {
  test('defaults', () => {
    // GIVEN a router with two rules
    const objects = synthRouter();
    // THEN
    expect(masked(objects)).toMatchSnapshot();
  });

  test('ships the reference router source and the rules in one ConfigMap, run by the pinned Node image', () => {
    const objects = synthRouter({ defaultTarget: 'app-a' });
    for (const name of ROUTER_MODULES) expect(configMapFile(objects, 'test-router-config', `${name}.ts`)).toBe(fs.readFileSync(path.join(ROUTER_SERVICE_DIR, `${name}.ts`), 'utf8'));
    // Every module of the service is shipped, and nothing else: the list is the folder.
    expect(fs.readdirSync(ROUTER_SERVICE_DIR).sort()).toEqual(ROUTER_MODULES.map((n) => `${n}.ts`).sort());
    expect(JSON.parse(configMapFile(objects, 'test-router-config', 'package.json'))).toEqual({ type: 'module' });
    expect(JSON.parse(configMapFile(objects, 'test-router-config', 'rules.json'))).toEqual({ targets: ['app-a', 'app-b'], rules, defaultTarget: 'app-a' });
    const container = findObject(objects, 'Deployment', 'test-router').spec.template.spec.containers[0];
    expect(container.image).toBe('node:24.11.1-alpine');
    expect([...container.command, ...container.args]).toEqual(['node', '--max-semi-space-size=2', '--max-old-space-size=64', '--disable-warning=ExperimentalWarning', '/etc/router/main.ts', '--config', '/etc/router/rules.json', '--port', '8080', '--drain-ms', '5000']);
  });

  test('finds the sources in the compiled package too (build/lib/router/service/*.mts), or says what the build must copy', () => {
    // GIVEN a compiled-package layout: no .ts, the copied .mts
    const built = tempDir('router-build');
    fs.mkdirSync(path.join(built, 'service'));
    for (const name of ROUTER_MODULES) fs.writeFileSync(path.join(built, 'service', `${name}.mts`), `export const name = '${name}';\n`);
    // THEN they are found there, and shipped under their source names
    expect(routerSources(built)['rules.ts']).toBe("export const name = 'rules';\n");
    // AND a build that forgot the copy fails with the fix
    const broken = tempDir('router-build-broken');
    expect(() => routerSources(broken)).toThrow('the package build must copy lib/router/service/*.ts to build/lib/router/service/*.mts');
    fs.rmSync(built, { recursive: true });
    fs.rmSync(broken, { recursive: true });
  });

  test('exposes what NGINX wires to: host, port, targets and the request fields rules read', () => {
    let router!: Router;
    synthWith((chart) => {
      router = new Router(chart, 'router', { targets: ['app-a', 'app-b'], rules: [...rules!, { strategy: 'header', params: { name: 'X-Tenant', value: 'acme', target: 'app-b' } }] });
    });
    expect([router.host, router.port, router.url]).toEqual(['test-router.platform-test.svc', 8080, 'http://test-router.platform-test.svc:8080']);
    expect(router.targets).toEqual(['app-a', 'app-b']);
    expect(router.decisionInputs).toEqual([{ cookie: 'session' }, { header: 'X-Tenant' }]);
  });

  test('logs in as its own Redis user: the password mounted as a file, rules.json naming the user and the file', () => {
    const objects = synthWith((chart) => {
      new Router(chart, 'router', { targets: ['app-a', 'app-b'], rules: [{ strategy: 'redisLookup', params: { keyPrefix: 'tenant:', key: { header: 'X-Tenant' } } }], redis: withRedis(chart), redisCredentials: routerCredentials() });
    });
    expect(JSON.parse(configMapFile(objects, 'test-router-config', 'rules.json')).redis).toEqual({
      host: 'test-redis.platform-test.svc', port: 6379, timeoutMs: 100, username: 'router', passwordFile: '/var/run/secrets/redis/password',
    });
    const pod = findObject(objects, 'Deployment', 'test-router').spec.template.spec;
    const volume = pod.volumes.find((v: { secret?: unknown }) => v.secret);
    expect(volume.secret).toEqual({ secretName: 'redis-users', items: [{ key: 'router', path: 'password' }] });
    expect(pod.containers[0].volumeMounts).toContainEqual({ mountPath: '/var/run/secrets/redis', name: volume.name, readOnly: true });
    expect(JSON.stringify(pod.containers[0].env ?? [])).not.toContain('password');
  });

  test('NetworkPolicies: to the Redis pods only, and from NGINX when NGINX is wired to it', () => {
    const objects = synthWith((chart) => {
      const router = new Router(chart, 'router', { targets: ['app-a'], defaultTarget: 'app-a', redis: withRedis(chart), redisCredentials: routerCredentials() });
      new Nginx(chart, 'nginx', { router, backends: [Backend.fromHost('app-a', 'app-a.shop.svc', 80)] });
    });
    const podsOf = (name: string) => findObject(objects, 'Deployment', name).spec.selector.matchLabels;
    const here = { matchLabels: { 'kubernetes.io/metadata.name': 'platform-test' } };
    expect(findObject(objects, 'NetworkPolicy', 'test-router-egress-to-redis-pods').spec.egress).toEqual([{ to: [{ namespaceSelector: here, podSelector: { matchLabels: podsOf('test-redis-pods') } }], ports: [{ port: 6379, protocol: 'TCP' }] }]);
    expect(findObject(objects, 'NetworkPolicy', 'test-redis-pods-ingress-from-router').spec.ingress).toEqual([{ from: [{ namespaceSelector: here, podSelector: { matchLabels: podsOf('test-router') } }], ports: [{ port: 6379, protocol: 'TCP' }] }]);
    expect(findObject(objects, 'NetworkPolicy', 'test-router-ingress-from-nginx').spec.ingress).toEqual([{ from: [{ namespaceSelector: here, podSelector: { matchLabels: podsOf('test-nginx') } }], ports: [{ port: 8080, protocol: 'TCP' }] }]);
  });

  test('a restricted pod with distinct probes, resources, scrape annotations, and a PDB with replicas', () => {
    const objects = synthRouter({ replicas: 2 });
    const template = findObject(objects, 'Deployment', 'test-router').spec.template;
    const container = template.spec.containers[0];
    expect(template.spec.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(container.resources.limits).toEqual({ cpu: '500m', memory: '128Mi', 'ephemeral-storage': '256Mi' });
    expect(container.readinessProbe.httpGet.path).toBe('/readyz');
    expect(container.livenessProbe.httpGet.path).toBe('/healthz');
    expect(template.metadata.annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '8080', 'prometheus.io/path': '/metrics' });
    expect(findObject(objects, 'PodDisruptionBudget', 'test-router-pdb').spec.maxUnavailable).toBe(1);
    expect(synthRouter().filter((o) => o.kind === 'PodDisruptionBudget')).toEqual([]);
  });

  test('a rules change rolls the pods', () => {
    const checksum = (objects: K8sObject[]) => findObject(objects, 'Deployment', 'test-router').spec.template.metadata.annotations['checksum/router-config'];
    expect(checksum(synthRouter())).not.toBe(checksum(synthRouter({ defaultTarget: 'app-b' })));
  });

  test('runs a user\'s own image with the same rules instead of the reference source', () => {
    const objects = synthRouter({ ownImage: { image: 'registry.example/router:1.2.3', command: ['/router'], user: 2000 } });
    expect(Object.keys(findObject(objects, 'ConfigMap', 'test-router-config').data)).toEqual(['rules.json']);
    const container = findObject(objects, 'Deployment', 'test-router').spec.template.spec.containers[0];
    expect([container.image, container.command, container.securityContext.runAsUser]).toEqual(['registry.example/router:1.2.3', ['/router'], 2000]);
  });

  test('fails when a rule names an unknown strategy or target, with every problem listed', () => {
    expect(() =>
      synthRouter({
        rules: [
          { strategy: 'pathPrefix', params: { prefix: '/c/', target: 'app-c' } },
          { strategy: 'redisLookup', params: { keyPrefix: 't:', key: { pathSegment: 0 } } },
          { strategy: 'teleport' as 'pathPrefix', params: { prefix: '/', target: 'app-a' } },
        ],
        replicas: 0,
      }),
    ).toThrow(
      "Router 'test/router' has 4 invalid props:\n" +
        '  - replicas must be an integer from 1 to 100, got 0\n' +
        "  - rules[0].params.target must be one of the targets (app-a|app-b), got 'app-c'\n" +
        "  - rules[1].strategy must be used only when the router has a redis endpoint, got 'redisLookup'\n" +
        "  - rules[2].strategy must be one of pathPrefix|header|cookie|weighted|redisLookup|refuse, got 'teleport'",
    );
  });

  test('fails when the own image is not pinned', () => {
    expect(() => synthRouter({ ownImage: { image: 'registry.example/router:latest' } })).toThrow(
      "Router 'test/router': ownImage.image must be an image pinned to a version (a tag other than 'latest', @sha256:<digest>, or both), got 'registry.example/router:latest'",
    );
  });
});
