import * as kplus from 'cdk8s-plus-27';
import { allowConnection, allowIngressFromAnywhere } from '../lib';
import { selects } from './policy/checks';
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

  test('a public workload accepts traffic from anywhere, on its port only', () => {
    const objects = synthWith((chart) => allowIngressFromAnywhere(deployment(chart, 'nginx', 8080), [8080]));
    // Every address, and every pod of every namespace (an ipBlock need not cover pod IPs)
    expect(findObject(objects, 'NetworkPolicy', 'test-nginx-ingress-from-anywhere').spec.ingress).toEqual([
      { from: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ port: 8080, protocol: 'TCP' }] },
      { from: [{ namespaceSelector: {}, podSelector: {} }], ports: [{ port: 8080, protocol: 'TCP' }] },
    ]);
  });
});

/** A NetworkPolicy evaluator over synthesized objects: does the policy set let `from` reach `to` on `port`? */
describe('the shipped environments let through exactly the wired connections', () => {
  type Obj = ReturnType<typeof synthEnvironment>[number];
  const NAMESPACE_LABEL = 'kubernetes.io/metadata.name';

  function podsOf(objects: Obj[], name: string) {
    const workload = objects.find((o) => ['Deployment', 'StatefulSet'].includes(o.kind) && o.metadata.name === name);
    if (!workload) throw new Error(`no workload ${name}`);
    const ports: number[] = workload.spec.template.spec.containers.flatMap((c: { ports?: { containerPort: number }[] }) => (c.ports ?? []).map((p) => p.containerPort));
    return { labels: workload.spec.template.metadata.labels as Record<string, string>, namespace: workload.metadata.namespace as string, ports };
  }
  const peerMatches = (peer: Obj, pod: { labels: Record<string, string>; namespace: string }) =>
    peer.ipBlock?.cidr === '0.0.0.0/0' ||
    (selects(peer.podSelector ?? {}, pod.labels) && (peer.namespaceSelector ? selects(peer.namespaceSelector, { [NAMESPACE_LABEL]: pod.namespace }) : true));
  // No ports, or an empty list, means every port.
  const portMatches = (rule: Obj, port: number) => !rule.ports?.length || rule.ports.some((p: { port: number }) => p.port === port);

  function allowed(objects: Obj[], from: string, to: string, port: number): boolean {
    const a = podsOf(objects, from);
    const b = podsOf(objects, to);
    const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
    const egress = policies.some((p) => p.spec.policyTypes.includes('Egress') && selects(p.spec.podSelector, a.labels) && (p.spec.egress ?? []).some((r: Obj) => portMatches(r, port) && (r.to ?? []).some((peer: Obj) => peerMatches(peer, b))));
    const ingress = policies.some((p) => p.spec.policyTypes.includes('Ingress') && selects(p.spec.podSelector, b.labels) && (p.spec.ingress ?? []).some((r: Obj) => portMatches(r, port) && (r.from ?? []).some((peer: Obj) => peerMatches(peer, a))));
    return egress && ingress;
  }

  const objects = synthEnvironment('dev');
  const port = (name: string) => podsOf(objects, `dev-${name}`).ports[0];

  test.each([
    ['nginx', 'router'],
    ['nginx', 'example-backends'],
    ['router', 'redis'],
    ['grafana', 'prometheus'],
    ['prometheus', 'router'],
    ['prometheus', 'nginx'],
  ])('%s -> %s is allowed', (from, to) => {
    const target = podsOf(objects, `dev-${to}`);
    const ports = from === 'prometheus' ? [Number(objects.find((o) => o.metadata.name === `dev-${to}` && o.spec?.template)?.spec.template.metadata.annotations['prometheus.io/port'])] : target.ports;
    expect(ports.some((p) => allowed(objects, `dev-${from}`, `dev-${to}`, p))).toBe(true);
  });

  test.each([
    ['grafana', 'redis'],
    ['nginx', 'redis'],
    ['nginx', 'prometheus'],
    ['example-backends', 'redis'],
    ['router', 'prometheus'],
    ['redis', 'router'],
  ])('%s -> %s is denied', (from, to) => {
    expect(podsOf(objects, `dev-${to}`).ports.some((p) => allowed(objects, `dev-${from}`, `dev-${to}`, p))).toBe(false);
    expect(port(to)).toBeGreaterThan(0);
  });
});
