// The Alertmanager construct: receivers' credentials mounted from Secrets, HA peers, the wiring from
// Prometheus, and the NetworkPolicies it asks for (amtool's check: alertmanager-amtool.test.ts).
import { parse } from 'yaml';
import { Alertmanager, denyAllTrafficExceptDns, Prometheus } from '../lib';
import { ALL_RECEIVERS, container, statefulSet, synthAlertmanager } from './alertmanager/fixtures';
import { configMapFile, findObject, synthWith } from './support/synth';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

describe('Alertmanager', () => {
  test('one replica runs without a cluster; two or more peer over the headless Service, with a disruption budget and a TCP+UDP policy between them', () => {
    const single = synthAlertmanager({ ...ALL_RECEIVERS, replicas: 1 }).objects;
    expect(container(single).args).toContain('--cluster.listen-address=');
    expect(single.filter((o) => o.kind === 'PodDisruptionBudget')).toEqual([]);

    const { objects, alertmanager } = synthAlertmanager({ ...ALL_RECEIVERS, replicas: 2 });
    expect(container(objects).args).toEqual(expect.arrayContaining([
      '--cluster.listen-address=0.0.0.0:9094',
      '--cluster.peer=test-alertmanager-0.test-alertmanager-cluster.platform-test.svc:9094',
      '--cluster.peer=test-alertmanager-1.test-alertmanager-cluster.platform-test.svc:9094',
    ]));
    const headless = findObject(objects, 'Service', 'test-alertmanager-cluster');
    expect(headless.spec).toMatchObject({ clusterIP: 'None', publishNotReadyAddresses: true });
    expect(statefulSet(objects).spec).toMatchObject({ serviceName: 'test-alertmanager-cluster', podManagementPolicy: 'Parallel', replicas: 2 });
    expect(objects.filter((o) => o.kind === 'PodDisruptionBudget')).toHaveLength(1);
    const peers = findObject(objects, 'NetworkPolicy', 'test-alertmanager-within-peers');
    expect(peers.spec.ingress[0].ports).toEqual([{ port: 9094, protocol: 'TCP' }, { port: 9094, protocol: 'UDP' }]);
    expect(peers.spec.egress[0].ports).toEqual([{ port: 9094, protocol: 'TCP' }, { port: 9094, protocol: 'UDP' }]);
    expect(alertmanager.podAddresses).toHaveLength(2);
  });

  test('restricted pod, resources, probes; egress only to the receivers\' ports', () => {
    const { objects } = synthAlertmanager();
    const pod = statefulSet(objects).spec.template.spec;
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(container(objects).securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(container(objects).resources).toEqual({ requests: { cpu: '50m', memory: '64Mi', 'ephemeral-storage': '64Mi' }, limits: { cpu: '500m', memory: '256Mi', 'ephemeral-storage': '512Mi' } });
    expect(container(objects).readinessProbe.httpGet.path).toBe('/-/ready');
    expect(container(objects).livenessProbe.httpGet.path).toBe('/-/healthy');
    // 8080: the webhook; 443: Slack, PagerDuty, the secret webhook; 587: SMTP
    const egress = findObject(objects, 'NetworkPolicy', 'test-alertmanager-egress-to-anywhere');
    expect([...new Set(egress.spec.egress.flatMap((r: Json) => r.ports.map((p: Json) => p.port)))]).toEqual([443, 587, 8080]);
  });

  test('Prometheus wired to it lists its pods under alerting, and the policies let Prometheus in on 9093', () => {
    const objects = synthWith((chart) => {
      denyAllTrafficExceptDns(chart);
      const alertmanager = new Alertmanager(chart, 'alertmanager', { ...ALL_RECEIVERS, replicas: 2 });
      new Prometheus(chart, 'prometheus', { alertmanagers: [alertmanager] });
    });
    const config = parse(configMapFile(objects, 'test-prometheus', 'prometheus.yml'));
    expect(config.alerting).toEqual({ alertmanagers: [{ static_configs: [{ targets: [
      'test-alertmanager-0.test-alertmanager-cluster.platform-test.svc:9093',
      'test-alertmanager-1.test-alertmanager-cluster.platform-test.svc:9093',
    ] }] }] });
    const ingress = findObject(objects, 'NetworkPolicy', 'test-alertmanager-ingress-from-prometheus');
    expect(ingress.spec.ingress[0].ports).toEqual([{ port: 9093, protocol: 'TCP' }]);
    findObject(objects, 'NetworkPolicy', 'test-prometheus-egress-to-alertmanager');
  });

  test('fails with every problem of the routing tree and receivers named', () => {
    expect(() => synthAlertmanager({
      route: { receiver: 'nobody', matchers: ['severity="critical"'], group_wait: 'soon', routes: [{ matchers: ['severity = '], receiver: 'ghost' }] },
      receivers: [
        { name: 'hook', webhook_configs: [{ url: 'ftp://x' }, {}] },
        { name: 'hook', slack_configs: [{ api_url_file: { name: 'Bad_Secret', key: 'url' }, channel: 'alerts' }] },
      ],
    })).toThrow([
      "Alertmanager 'test/alertmanager' has 9 invalid props:",
      "  - receivers[0].webhook_configs[0].url must be an http:// or https:// URL, got 'ftp://x'",
      '  - receivers[0].webhook_configs[1].url must be set, or url_file instead (exactly one), got undefined',
      "  - receivers[1].slack_configs[0].channel must be #channel or @user, got 'alerts'",
      "  - receivers[].name must be unique, got 'hook'",
      "  - receivers[1].slack_configs[0].api_url_file.name must be the name of an existing Secret (a DNS subdomain: lower-case letters, digits, '-' and '.'), got 'Bad_Secret'",
      '  - route.matchers must be empty: the root route matches every alert, got ["severity=\\"critical\\""]',
      "  - route.receiver must be one of the receivers (hook), got 'nobody'",
      "  - route.group_wait must be a Prometheus duration such as 30s, 5m or 4h, got 'soon'",
      "  - route.routes[0].receiver must be one of the receivers (hook), got 'ghost'",
    ].join('\n'));
  });
});
