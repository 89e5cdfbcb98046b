// The Alertmanager construct's alertmanager.yml checked by the real amtool (v0.35.0, the image's
// version, `npm run engines`): every receiver kind, and each environment's.
import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { ENVIRONMENTS } from '../app/environments';
import { container, SECRET, statefulSet, synthAlertmanager } from './alertmanager/fixtures';
import { enginePath, run, tempDir } from './support/engines';
import { configMapFile, findObject, synthEnvironment } from './support/synth';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

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

describe('Alertmanager and amtool', () => {
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
});
