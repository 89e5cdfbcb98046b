// What the Alertmanager tests share: a config with every receiver kind, and its synth.
import { Alertmanager, AlertmanagerProps, denyAllTrafficExceptDns } from '../../lib';
import { K8sObject, synthWith } from '../support/synth';

export const SECRET = 'alert-receivers';

/** Every receiver kind, each credential from the one Secret. */
export const ALL_RECEIVERS: AlertmanagerProps = {
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

export function synthAlertmanager(props: AlertmanagerProps = ALL_RECEIVERS, isolated = true): { objects: K8sObject[]; alertmanager: Alertmanager } {
  let alertmanager!: Alertmanager;
  const objects = synthWith((chart) => {
    if (isolated) denyAllTrafficExceptDns(chart);
    alertmanager = new Alertmanager(chart, 'alertmanager', props);
  });
  return { objects, alertmanager };
}

export const statefulSet = (objects: K8sObject[]) => objects.find((o) => o.kind === 'StatefulSet')!;
export const container = (objects: K8sObject[]) => statefulSet(objects).spec.template.spec.containers[0];
