// The constructs in another team's plain cdk8s app: a Chart under an App, no EnvironmentChart,
// no PlatformApp. What the README's section for consuming teams promises.
import * as fs from 'fs';
import * as path from 'path';
import { App, Chart, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import {
  denyAllTrafficExceptDns, EnvironmentChart, Grafana, markForScraping, PlatformApp, PlatformChart, prometheusEndpoint, Redis, restrictedContainerSecurityContext, restrictPod, ServiceExposure,
} from '../lib';
import { tempDir } from './support/engines';
import { K8sObject, testApp, thrownMessage } from './support/synth';

const admin = { adminUser: { name: 'grafana-admin', key: 'admin-user' }, adminPassword: { name: 'grafana-admin', key: 'admin-password' } };
const policies = (objects: K8sObject[]) => objects.filter((o) => o.kind === 'NetworkPolicy').map((o) => o.metadata.name).sort();
const api = (scope: Construct, id = 'api') => restrictPod(new kplus.Deployment(scope, id, { containers: [{ image: 'api:1', portNumber: 8080, securityContext: restrictedContainerSecurityContext(1000) }] }));

describe('NetworkPolicies in a plain Chart', () => {
  test('a chart without default-deny gets no policy from the library: no pod loses DNS or its clients', () => {
    // GIVEN a team's plain chart with Redis, an API that uses it and is scraped
    const chart = new Chart(testApp(), 'team', { namespace: 'team' });
    const redis = new Redis(chart, 'redis');
    const web = api(chart);
    redis.allowFrom(web);
    markForScraping(web, { port: 8080 });
    // THEN no NetworkPolicy isolates anything (Kubernetes' default: all traffic allowed)
    expect(policies(Testing.synth(chart))).toEqual([]);
  });

  test('declaring default-deny, before or after the constructs, gives each connection its policies, DNS included', () => {
    // GIVEN a team's plain chart whose Redis admits its API, default-deny declared last
    const chart = new Chart(testApp(), 'team', { namespace: 'team' });
    const redis = new Redis(chart, 'redis');
    const web = api(chart);
    redis.allowFrom(web);
    denyAllTrafficExceptDns(chart);
    // THEN DNS, the API to Redis, and the scrapers to Redis's exporter are allowed
    const names = policies(Testing.synth(chart));
    expect(names).toEqual(expect.arrayContaining(['team-allow-dns', 'team-deny-all', 'team-api-egress-to-redis', 'team-redis-ingress-from-api', 'team-redis-ingress-from-metrics-scrapers']));
  });
});

describe('several teams on one Prometheus', () => {
  test('each team chart has its own Grafana under the id grafana, in one app', () => {
    // GIVEN the platform's chart and two teams' plain charts in one app
    const app = testApp();
    const platform = new PlatformChart(app, 'platform', { environment: { name: 'platform' } });
    const teams = ['team-a', 'team-b'].map((team) => {
      const chart = new Chart(app, team, { namespace: team });
      new Grafana(chart, 'grafana', { prometheus: platform.prometheus!, ...admin });
      return chart;
    });
    // WHEN it synthesizes THEN Prometheus admits each team's Grafana, by a policy named after the team
    const objects = [platform, ...teams].flatMap((chart) => Testing.synth(chart) as K8sObject[]);
    expect(policies(objects)).toEqual(expect.arrayContaining(['platform-prometheus-ingress-from-team-a-grafana', 'platform-prometheus-ingress-from-team-b-grafana']));
    expect(objects.filter((o) => o.kind === 'Deployment' && o.metadata.name.endsWith('grafana')).map((o) => `${o.metadata.namespace}/${o.metadata.name}`).sort())
      .toEqual(['platform-platform/platform-grafana', 'team-a/team-a-grafana', 'team-b/team-b-grafana']);
  });

  test('a team in another app queries the Prometheus by its URL; a PlatformChart can stand on an existing Prometheus', () => {
    const prometheus = prometheusEndpoint('http://platform-prometheus.platform-platform.svc:9090');
    const chart = new Chart(testApp(), 'team', { namespace: 'team' });
    new Grafana(chart, 'grafana', { prometheus, ...admin });
    expect(JSON.stringify(Testing.synth(chart))).toContain('http://platform-prometheus.platform-platform.svc:9090');
    const onExisting = new PlatformChart(testApp(), 'qa', { environment: { name: 'qa' }, prometheus });
    const objects = Testing.synth(onExisting) as K8sObject[];
    expect(onExisting.prometheus).toBeUndefined();
    expect(objects.filter((o) => o.metadata.name.includes('prometheus') && o.kind !== 'NetworkPolicy')).toEqual([]);
    expect(policies(objects)).toContain('qa-grafana-egress-to-prometheus');
  });

  test('the platform admits another app\'s clients by namespace', () => {
    const platform = new PlatformChart(testApp(), 'platform', { environment: { name: 'platform', prometheus: { clientNamespaces: ['team-c'] } } });
    const policy = (Testing.synth(platform) as K8sObject[]).find((o) => o.metadata.name === 'platform-prometheus-ingress-from-client-namespaces')!;
    expect(policy.spec.ingress).toEqual([{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'team-c' } }, podSelector: {} }], ports: [{ port: 9090, protocol: 'TCP' }] }]);
  });

  test('two apps with an environment named dev in different namespaces share no cluster-scoped name', () => {
    const clusterNames = (namespace: string) => (Testing.synth(new PlatformChart(testApp(), 'dev', { environment: { name: 'dev', namespace } })) as K8sObject[])
      .filter((o) => !o.metadata.namespace).map((o) => `${o.kind}/${o.metadata.name}`);
    const a = clusterNames('team-a-dev');
    const b = clusterNames('team-b-dev');
    expect(a).toContain('ClusterRole/team-a-dev-dev-prometheus');
    expect(a.filter((name) => b.includes(name))).toEqual([]);
  });
});

describe('names', () => {
  test('a collision under a plain App fails, naming both construct paths', () => {
    // GIVEN Redis 'cache-a' and a Redis at cache/a: both would be named test-cache-a
    const build = () => {
      const chart = new EnvironmentChart(new App({ outdir: tempDir('never-written') }), 'test', { environment: { name: 'test' } });
      new Redis(chart, 'cache-a');
      new Redis(new Construct(chart, 'cache'), 'a');
      return Testing.synth(chart);
    };
    const message = thrownMessage(build);
    expect(message).toContain("StatefulSet 'test-cache-a' in namespace 'platform-test' is made by both test/cache-a/Resource/Resource and test/cache/a/Resource/Resource");
  });

  test('long names keep the chart prefix and stay unique, with a hash', () => {
    const chart = new EnvironmentChart(testApp(), 'checkout', { environment: { name: 'checkout' } });
    markForScraping(api(chart, 'checkout-api-canary-experiment-with-a-very-long-name-one'), { port: 8080 });
    markForScraping(api(chart, 'checkout-api-canary-experiment-with-a-very-long-name-two'), { port: 8080 });
    const names = policies(Testing.synth(chart) as K8sObject[]).filter((n) => n.includes('metrics-scrapers') || n.includes('canary'));
    expect(names).toHaveLength(2);
    for (const name of names) {
      expect(name.startsWith('checkout-')).toBe(true);
      expect(name.length).toBeLessThanOrEqual(63);
      expect(name).toMatch(/-[0-9a-f]{8}$/);
    }
    expect(new Set(names).size).toBe(2);
  });
});

describe('Pod Security "restricted" at synth', () => {
  test('a team Deployment in an EnvironmentChart fails with its path and the fields to change; restrictPod fixes it', () => {
    const build = (restrict: boolean) => () => {
      const chart = new EnvironmentChart(testApp(), 'orders', { environment: { name: 'orders' } });
      const deployment = new kplus.Deployment(chart, 'api', { containers: [{ image: 'api:1', portNumber: 8080 }] });
      if (restrict) restrictPod(deployment);
      return Testing.synth(chart);
    };
    const message = thrownMessage(build(false));
    expect(message).toContain("Deployment 'orders-api' (orders/api/Resource) would be refused by Pod Security \"restricted\", which namespace 'platform-orders' enforces");
    expect(message).toContain('seccompProfile.type');
    expect(message).toContain('capabilities.drop must include ALL');
    expect(message).toContain('restrictPod(workload)');
    expect(build(true)).not.toThrow();
  });

  test('a plain chart whose namespace does not enforce it is not checked', () => {
    const chart = new Chart(testApp(), 'team', { namespace: 'team' });
    new Redis(chart, 'redis');
    new kplus.Deployment(chart, 'api', { containers: [{ image: 'api:1', portNumber: 8080 }] });
    expect(() => Testing.synth(chart)).not.toThrow();
  });
});

describe('escape hatches', () => {
  test('placement, pull secrets and extra metadata reach everything a construct creates', () => {
    const chart = new Chart(testApp(), 'team', { namespace: 'team' });
    new Redis(chart, 'redis', {
      nodeSelector: { pool: 'data' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'data', effect: 'NoSchedule' }],
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }] } } },
      imagePullSecrets: ['registry-cred'],
      labels: { team: 'orders' },
      annotations: { 'owner.example.com/contact': 'orders@example.com' },
    });
    const objects = Testing.synth(chart) as K8sObject[];
    for (const object of objects) {
      expect(object.metadata.labels).toMatchObject({ team: 'orders' });
      expect(object.metadata.annotations).toMatchObject({ 'owner.example.com/contact': 'orders@example.com' });
    }
    const pod = objects.find((o) => o.kind === 'StatefulSet')!.spec.template;
    expect(pod.metadata.labels).toMatchObject({ team: 'orders' });
    expect(pod.spec).toMatchObject({
      nodeSelector: { pool: 'data' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'data', effect: 'NoSchedule' }],
      imagePullSecrets: [{ name: 'registry-cred' }],
    });
    expect(pod.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].key).toBe('zone');
  });
});

describe('one copy of cdk8s', () => {
  test('a chart made with another copy of cdk8s (a symlinked install) fails at construction, saying what to do', () => {
    // GIVEN a second copy of cdk8s, as a symlinked library would resolve beside its sources
    const dir = tempDir('second-cdk8s');
    try {
      const modules = path.join(dir, 'node_modules');
      fs.mkdirSync(modules);
      fs.cpSync(path.dirname(require.resolve('cdk8s/package.json')), path.join(modules, 'cdk8s'), { recursive: true });
      for (const dependency of ['constructs', 'yaml', 'follow-redirects', 'fast-json-patch']) {
        const from = path.join(__dirname, '..', 'node_modules', dependency);
        if (fs.existsSync(from) && !fs.existsSync(path.join(modules, 'cdk8s', 'node_modules', dependency))) fs.symlinkSync(from, path.join(modules, dependency));
      }
      const other = require(path.join(modules, 'cdk8s')) as typeof import('cdk8s');
      expect(other.App).not.toBe(App);
      const chart = new other.Chart(new other.App({ outdir: dir }), 'team', { namespace: 'team' });
      // WHEN a construct of the library is added THEN it says what happened and what to do
      const message = thrownMessage(() => new Redis(chart as unknown as Construct, 'redis'));
      expect(message).toContain("cdk8s-platform-stack: 'team/redis' was made with another copy of the 'cdk8s' package");
      expect(message).toContain('npm install --install-links ../cdk8s-platform-stack');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('environments sharing a cluster', () => {
  const app = () => new PlatformApp({ outdir: tempDir('never-written') });
  const grafanaOnNodePort = (nodePort: number) => ({ ...admin, expose: ServiceExposure.nodePort(nodePort) });

  test('two node-exporters in one cluster: the synth refuses the later one, naming both, the port and the fix; one per cluster passes', () => {
    // GIVEN two environments in cluster 'shared', both with node-exporter (the default)
    const twoExporters = app();
    new PlatformChart(twoExporters, 'a', { environment: { name: 'a', cluster: 'shared' } });
    new PlatformChart(twoExporters, 'b', { environment: { name: 'b', cluster: 'shared' } });
    // THEN the synth fails on b's, which would stay Pending on every node a's runs on
    const message = thrownMessage(() => twoExporters.render());
    expect(message).toContain("[b] host port 9100/TCP of DaemonSet 'b-node-exporter' (b/node-exporter/Resource) is already taken by DaemonSet 'a-node-exporter' (a/node-exporter/Resource) in cluster 'shared'");
    expect(message).toContain('nodeExporter: false in the other environments');
    expect(message).not.toContain('[a]');
    // AND with node-exporter in one of them only, or in clusters of their own (the default), it passes
    const oneExporter = app();
    new PlatformChart(oneExporter, 'a', { environment: { name: 'a', cluster: 'shared' } });
    new PlatformChart(oneExporter, 'b', { environment: { name: 'b', cluster: 'shared', nodeExporter: false } });
    expect(oneExporter.render().files.size).toBeGreaterThan(0);
    const ownClusters = app();
    new PlatformChart(ownClusters, 'a', { environment: { name: 'a' } });
    new PlatformChart(ownClusters, 'b', { environment: { name: 'b' } });
    expect(ownClusters.render().files.size).toBeGreaterThan(0);
  });

  test('one node port asked for by two Services of a cluster fails, within an environment or across two; in different clusters it passes', () => {
    // GIVEN Grafana on node port 30300 in two environments of cluster 'shared'
    const across = app();
    new PlatformChart(across, 'a', { environment: { name: 'a', cluster: 'shared', nodeExporter: false, grafana: grafanaOnNodePort(30300) } });
    new PlatformChart(across, 'b', { environment: { name: 'b', cluster: 'shared', nodeExporter: false, grafana: grafanaOnNodePort(30300) } });
    expect(thrownMessage(() => across.render())).toContain(
      "[b] node port 30300 of Service 'b-grafana' (b/grafana/service) is already taken by Service 'a-grafana' (a/grafana/service) in cluster 'shared': the API server gives a node port to one Service of a cluster",
    );
    // AND Prometheus and Grafana of one environment on the same node port
    const within = app();
    new PlatformChart(within, 'a', { environment: { name: 'a', prometheus: { expose: ServiceExposure.nodePort(30300) }, grafana: grafanaOnNodePort(30300) } });
    expect(thrownMessage(() => within.render())).toContain("node port 30300 of Service 'a-grafana' (a/grafana/service) is already taken by Service 'a-prometheus' (a/prometheus/service) in cluster 'a'");
    // THEN the same node port in clusters of their own is fine
    const apart = app();
    new PlatformChart(apart, 'a', { environment: { name: 'a', grafana: grafanaOnNodePort(30300) } });
    new PlatformChart(apart, 'b', { environment: { name: 'b', grafana: grafanaOnNodePort(30300) } });
    expect(apart.render().files.size).toBeGreaterThan(0);
  });

  test('an empty cluster name is refused, naming the prop', () => {
    expect(thrownMessage(() => new PlatformChart(app(), 'a', { environment: { name: 'a', cluster: '' } }))).toMatch(/environment\.cluster.*not empty/);
  });
});
