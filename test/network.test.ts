import * as kplus from 'cdk8s-plus-27';
import { allowConnection, allowIngressFromAnywhere, markForScraping } from '../lib';
import { Prometheus } from '../lib/prometheus';
import { PodGroup, Reachability, podGroups } from './support/reachability';
import { findObject, synthEnvironment, synthWith } from './support/synth';
import { restrictPod } from '../lib';

describe('NetworkPolicies from the wiring', () => {
  const deployment = (scope: kplus.Deployment['node']['scope'], id: string, port: number) =>
    restrictPod(new kplus.Deployment(scope as never, id, { containers: [{ image: 'example:1', portNumber: port }] }));

  test('every chart denies all traffic in its namespace but DNS to the cluster DNS', () => {
    const objects = synthWith(() => undefined);
    expect(findObject(objects, 'NetworkPolicy', 'test-deny-all').spec).toEqual({ podSelector: {}, policyTypes: ['Egress', 'Ingress'] });
    expect(findObject(objects, 'NetworkPolicy', 'test-allow-dns').spec).toEqual({
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [
        {
          to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
          ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }],
        },
      ],
    });
  });

  test('a connection is an egress policy on the client and an ingress policy on the server, on its port only', () => {
    // GIVEN a client and a server WHEN the client is wired to the server's port
    const objects = synthWith((chart) => {
      const client = deployment(chart, 'api', 8080);
      const server = deployment(chart, 'cache', 6379);
      allowConnection(client, server, [6379]);
    });
    // THEN each side gets one readable, named policy selecting its own pods
    const egress = findObject(objects, 'NetworkPolicy', 'test-api-egress-to-cache');
    const ingress = findObject(objects, 'NetworkPolicy', 'test-cache-ingress-from-api');
    const apiPods = findObject(objects, 'Deployment', 'test-api').spec.selector.matchLabels;
    const cachePods = findObject(objects, 'Deployment', 'test-cache').spec.selector.matchLabels;
    expect(egress.spec).toEqual({ podSelector: { matchLabels: apiPods }, policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'platform-test' } }, podSelector: { matchLabels: cachePods } }], ports: [{ port: 6379, protocol: 'TCP' }] }] });
    expect(ingress.spec).toEqual({ podSelector: { matchLabels: cachePods }, policyTypes: ['Ingress'], ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'platform-test' } }, podSelector: { matchLabels: apiPods } }], ports: [{ port: 6379, protocol: 'TCP' }] }] });
  });

  test("Prometheus's egress to its scrape namespaces: workloads marked in the app (after it too) on their port; elsewhere scrapePorts, else any port", () => {
    const synth = (scrapePorts?: number[]) => synthWith((chart) => {
      new Prometheus(chart, 'prometheus', { scrapeNamespaces: ['team-a'], scrapePorts });
      markForScraping(deployment(chart, 'api', 8081), { port: 8081 });
    });
    const rules = (objects: ReturnType<typeof synth>) => findObject(objects, 'NetworkPolicy', 'test-prometheus-egress-to-scrape-namespaces').spec.egress;
    const ns = (name: string) => ({ matchLabels: { 'kubernetes.io/metadata.name': name } });
    const api = { namespaceSelector: ns('platform-test'), podSelector: { matchLabels: findObject(synth(), 'Deployment', 'test-api').spec.selector.matchLabels } };
    // team-a's workloads are in another app: any port (no ports field, never an empty list)...
    expect(rules(synth())).toEqual([{ to: [api], ports: [{ port: 8081, protocol: 'TCP' }] }, { to: [{ namespaceSelector: ns('team-a'), podSelector: {} }] }]);
    // ...or the ports given, sorted, in every scrape namespace.
    const everyPodOn = (name: string) => ({ to: [{ namespaceSelector: ns(name), podSelector: {} }], ports: [{ port: 8080, protocol: 'TCP' }, { port: 9100, protocol: 'TCP' }] });
    expect(rules(synth([9100, 8080]))).toEqual([{ to: [api], ports: [{ port: 8081, protocol: 'TCP' }] }, everyPodOn('platform-test'), everyPodOn('team-a')]);
  });

  test('a public workload accepts traffic from anywhere, on its port only', () => {
    const objects = synthWith((chart) => allowIngressFromAnywhere(deployment(chart, 'nginx', 8080), [8080]));
    // Every address, and every pod of every namespace (an ipBlock need not cover pod IPs)
    expect(findObject(objects, 'NetworkPolicy', 'test-nginx-ingress-from-anywhere').spec.ingress).toEqual([
      { from: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ port: 8080, protocol: 'TCP' }] },
      { from: [{ namespaceSelector: {}, podSelector: {} }], ports: [{ port: 8080, protocol: 'TCP' }] },
    ]);
  });
});

describe('the shipped environments let through exactly the wired connections', () => {
  const objects = synthEnvironment('dev');
  const reachability = new Reachability(objects);
  const groups = podGroups(objects);
  const pods = (name: string) => groups.find((g) => g.name === `platform-dev/dev-${name}`)!;
  // Prometheus connects to the annotated metrics port; everyone else to the server's container ports.
  const ports = (from: string, to: string) => (from === 'prometheus' ? [Number(pods(to).annotations['prometheus.io/port'])] : pods(to).ports.map((p) => p.number));
  const reaches = (from: string, to: string) => ports(from, to).some((port) => reachability.allows({ from: pods(from), to: pods(to), port }));

  test.each([
    ['nginx', 'router'],
    ['nginx', 'example-backends'],
    ['router', 'redis'],
    ['grafana', 'prometheus'],
    ['prometheus', 'router'],
    ['prometheus', 'nginx'],
  ])('%s -> %s is allowed', (from, to) => {
    expect(reaches(from, to)).toBe(true);
  });

  test.each([
    ['grafana', 'redis'],
    ['nginx', 'redis'],
    ['nginx', 'prometheus'],
    ['example-backends', 'redis'],
    ['router', 'prometheus'],
    ['redis', 'router'],
  ])('%s -> %s is denied', (from, to) => {
    expect(ports(from, to).length).toBeGreaterThan(0);
    expect(reaches(from, to)).toBe(false);
  });

  test("Prometheus reaches a scraped pod on its metrics port only, not on the pod's other ports", () => {
    // nginx admits anyone on 8080: only Prometheus's own egress keeps it to 9113 there.
    const scraped = groups.filter((g) => g.namespace === 'platform-dev' && g.annotations['prometheus.io/scrape'] === 'true');
    expect(scraped.find((g) => g.name === 'platform-dev/dev-nginx')?.ports.map((p) => p.number)).toEqual(expect.arrayContaining([8080, 9113]));
    for (const to of scraped) {
      const metricsPort = Number(to.annotations['prometheus.io/port']);
      for (const port of to.ports.map((p) => p.number)) {
        expect([to.name, port, reachability.allows({ from: pods('prometheus'), to, port })]).toEqual([to.name, port, port === metricsPort]);
      }
    }
  });

  describe('environments are isolated from each other', () => {
    const both = [...synthEnvironment('dev'), ...synthEnvironment('prod')];
    const NAMESPACE_LABEL = 'kubernetes.io/metadata.name';
    const bothReachability = new Reachability(both);
    const bothGroups = podGroups(both);
    const group = (env: string, name: string) => bothGroups.find((g) => g.name === `platform-${env}/${name}`)!;
    const scraped = (env: string) => bothGroups.filter((g) => g.namespace === `platform-${env}` && g.annotations['prometheus.io/scrape'] === 'true');
    const allowed = (fromEnv: string, to: PodGroup, port: number) => bothReachability.allows({ from: group(fromEnv, `${fromEnv}-prometheus`), to, port });

    test("dev's Prometheus cannot reach any of prod's pods, on any port; prod's reaches each of prod's metrics ports", () => {
      expect(scraped('prod').length).toBeGreaterThanOrEqual(4);
      for (const pod of scraped('prod')) {
        const metricsPort = Number(pod.annotations['prometheus.io/port']);
        for (const p of [metricsPort, ...pod.ports.map((q) => q.number)]) expect([pod.name, p, allowed('dev', pod, p)]).toEqual([pod.name, p, false]);
        expect([pod.name, allowed('prod', pod, metricsPort)]).toEqual([pod.name, true]);
      }
      for (const pod of scraped('dev')) expect([pod.name, allowed('prod', pod, Number(pod.annotations['prometheus.io/port']))]).toEqual([pod.name, false]);
    });

    test('the scraper ingress admits scraper pods of its own namespace only, not a scraper label in any namespace', () => {
      const policy = findObject(both, 'NetworkPolicy', 'prod-router-ingress-from-metrics-scrapers');
      expect(policy.spec.ingress[0].from).toEqual([{ namespaceSelector: { matchLabels: { [NAMESPACE_LABEL]: 'platform-prod' } }, podSelector: { matchLabels: { 'platform-stack.io/metrics-scraper': 'true' } } }]);
    });

    test("Prometheus's egress: its namespace's scraped pods on their metrics ports, the API server (443, 6443), kubelets (10250) and node-exporters (9100, on the nodes' network) by IP block, its Alertmanager and kube-state-metrics", () => {
      const pods = (name: string) => both.find((o) => ['Deployment', 'StatefulSet'].includes(o.kind) && o.metadata.name === name)!.spec.selector.matchLabels;
      const egress = both.filter((o) => o.kind === 'NetworkPolicy' && o.metadata.name.startsWith('prod-prometheus-egress-to-')).map((o) => [o.metadata.name, o.spec.egress]);
      expect(Object.fromEntries(egress)).toEqual({
        // Each workload marked for scraping in its namespace, its pods on its metrics port only, by port; no other pod or port.
        'prod-prometheus-egress-to-scrape-namespaces': ([['grafana', 3000], ['router', 8080], ['alertmanager', 9093], ['nginx', 9113], ['redis', 9121]] as const).map(([name, port]) => (
          { to: [{ namespaceSelector: { matchLabels: { [NAMESPACE_LABEL]: 'platform-prod' } }, podSelector: { matchLabels: pods(`prod-${name}`) } }], ports: [{ port, protocol: 'TCP' }] })),
        'prod-prometheus-egress-to-kubernetes-api': [{ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ port: 443, protocol: 'TCP' }, { port: 6443, protocol: 'TCP' }] }],
        'prod-prometheus-egress-to-kubelets': [{ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ port: 10250, protocol: 'TCP' }] }],
        'prod-prometheus-egress-to-node-exporters': [{ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ port: 9100, protocol: 'TCP' }] }],
        // The constructs it is wired to: their pods on their ports.
        'prod-prometheus-egress-to-alertmanager': [{ to: [{ namespaceSelector: { matchLabels: { [NAMESPACE_LABEL]: 'platform-prod' } }, podSelector: { matchLabels: pods('prod-alertmanager') } }], ports: [{ port: 9093, protocol: 'TCP' }] }],
        'prod-prometheus-egress-to-kube-state-metrics': [{ to: [{ namespaceSelector: { matchLabels: { [NAMESPACE_LABEL]: 'platform-prod' } }, podSelector: { matchLabels: pods('prod-kube-state-metrics') } }], ports: [{ port: 8080, protocol: 'TCP' }] }],
      });
    });

    test("Grafana is reached where it is exposed: prod's through the ingress controller's namespace only, dev's NodePort from anywhere", () => {
      expect(findObject(both, 'NetworkPolicy', 'prod-grafana-ingress-from-ingress-controller').spec.ingress).toEqual([
        { from: [{ namespaceSelector: { matchLabels: { [NAMESPACE_LABEL]: 'ingress-nginx' } }, podSelector: {} }], ports: [{ port: 3000, protocol: 'TCP' }] },
      ]);
      expect(both.some((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'prod-grafana-ingress-from-anywhere')).toBe(false);
      expect(both.some((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'dev-grafana-ingress-from-anywhere')).toBe(true);
    });
  });
});
