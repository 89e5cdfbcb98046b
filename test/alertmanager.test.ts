// The Alertmanager construct: its alertmanager.yml checked by the real amtool (v0.35.0, the image's
// version, `npm run engines`), receivers' credentials mounted from Secrets, HA peers, the wiring
// from Prometheus, and the NetworkPolicies it asks for.
import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { Alertmanager, AlertmanagerProps, denyAllTrafficExceptDns, Prometheus } from '../lib';
import { ENVIRONMENTS } from '../app/environments';
import { enginePath, run, tempDir } from './support/engines';
import { configMapFile, findObject, K8sObject, synthEnvironment, synthWith } from './support/synth';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const SECRET = 'alert-receivers';

/** Every receiver kind, each credential from the one Secret. */
const ALL_RECEIVERS: AlertmanagerProps = {
  route: {
    receiver: 'team-webhook',
    group_by: ['alertname', 'namespace'],
    routes: [
      { matchers: ['severity="critical"'], receiver: 'pager', continue: true },
      { matchers: ['severity=~"warning|info"', 'namespace!="kube-system"'], receiver: 'slack', group_wait: '1m' },
      { matchers: ['alertname="Watchdog"'], receiver: 'mail', repeat_interval: '24h' },
      { matchers: ['team="payments"'], receiver: 'secret-webhook' },
    ],
  },
  receivers: [
    { name: 'team-webhook', webhook_configs: [{ url: 'http://alert-sink.team.svc:8080/alerts', max_alerts: 20 }] },
    { name: 'secret-webhook', webhook_configs: [{ url_file: { name: SECRET, key: 'webhook-url' } }] },
    { name: 'slack', slack_configs: [{ api_url_file: { name: SECRET, key: 'slack-url' }, channel: '#alerts', send_resolved: true }] },
    { name: 'mail', email_configs: [{ to: 'oncall@example.com', from: 'alertmanager@example.com', smarthost: 'smtp.example.com:587', auth_username: 'alertmanager', auth_password_file: { name: 'smtp', key: 'password' } }] },
    { name: 'pager', pagerduty_configs: [{ routing_key_file: { name: SECRET, key: 'pagerduty-key' } }] },
  ],
};

function synthAlertmanager(props: AlertmanagerProps = ALL_RECEIVERS, isolated = true): { objects: K8sObject[]; alertmanager: Alertmanager } {
  let alertmanager!: Alertmanager;
  const objects = synthWith((chart) => {
    if (isolated) denyAllTrafficExceptDns(chart);
    alertmanager = new Alertmanager(chart, 'alertmanager', props);
  });
  return { objects, alertmanager };
}

const amtool = () => enginePath('amtool');

/** amtool check-config on a config text; returns its output (throws with it when invalid). */
function checkConfig(text: string): string {
  const dir = tempDir('amtool');
  try {
    const file = path.join(dir, 'alertmanager.yml');
    fs.writeFileSync(file, text);
    return run(amtool(), ['check-config', file]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const statefulSet = (objects: K8sObject[]) => objects.find((o) => o.kind === 'StatefulSet')!;
const container = (objects: K8sObject[]) => statefulSet(objects).spec.template.spec.containers[0];

describe('Alertmanager', () => {
  test('amtool check-config accepts the synthesized alertmanager.yml with every receiver kind, credentials as *_file paths', () => {
    // GIVEN webhook, Slack, email and PagerDuty receivers, routes and the default inhibition
    const { objects } = synthAlertmanager();
    const text = configMapFile(objects, 'test-alertmanager', 'alertmanager.yml');
    // WHEN the real amtool checks it
    const output = checkConfig(text);
    // THEN it is valid, with what we wrote
    expect(output).toContain('SUCCESS');
    expect(output).toContain(' - 2 inhibit rules');
    expect(output).toContain(' - 5 receivers');
    // AND every credential is a path under the Secret's mount, never a value
    const config = parse(text);
    expect(config.receivers.find((r: Json) => r.name === 'pager').pagerduty_configs[0]).toEqual({ routing_key_file: `/etc/alertmanager/secrets/${SECRET}/pagerduty-key` });
    expect(config.receivers.find((r: Json) => r.name === 'mail').email_configs[0].auth_password_file).toBe('/etc/alertmanager/secrets/smtp/password');
    const mounts = container(objects).volumeMounts;
    expect(mounts).toEqual(expect.arrayContaining([
      { mountPath: `/etc/alertmanager/secrets/${SECRET}`, name: expect.any(String), readOnly: true },
      { mountPath: '/etc/alertmanager/secrets/smtp', name: expect.any(String), readOnly: true },
    ]));
    const volumes = statefulSet(objects).spec.template.spec.volumes;
    expect(volumes.filter((v: Json) => v.secret).map((v: Json) => [v.secret.secretName, v.secret.items.map((i: Json) => i.key).sort()]).sort()).toEqual([
      [SECRET, ['pagerduty-key', 'slack-url', 'webhook-url']],
      ['smtp', ['password']],
    ]);
  });

  test('amtool is a real check: it refuses a route naming a receiver that does not exist', () => {
    expect(() => checkConfig('route:\n  receiver: nowhere\nreceivers:\n  - name: somewhere\n')).toThrow(/undefined receiver "nowhere"/);
  });

  test("each environment's alertmanager.yml passes amtool, and its Prometheus sends to every replica (prod: 3 peers)", () => {
    for (const { name } of ENVIRONMENTS) {
      const objects = synthEnvironment(name);
      expect(checkConfig(configMapFile(objects, `${name}-alertmanager`, 'alertmanager.yml'))).toContain('SUCCESS');
      const replicas = findObject(objects, 'StatefulSet', `${name}-alertmanager`).spec.replicas;
      const prometheusYml = parse(configMapFile(objects, `${name}-prometheus`, 'prometheus.yml'));
      expect(prometheusYml.alerting.alertmanagers[0].static_configs[0].targets).toEqual(
        Array.from({ length: replicas }, (_, i) => `${name}-alertmanager-${i}.${name}-alertmanager-cluster.platform-${name}.svc:9093`),
      );
      if (name === 'prod') expect(replicas).toBeGreaterThanOrEqual(2);
    }
  });

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
