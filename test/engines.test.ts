// The engines of scripts/engines/table.js (`npm run engines`) run and say the version they are
// pinned at, and the exporters and servers the charts deploy are built at their image's version.
// A missing engine fails here (enginePath), never skips.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { ALERTMANAGER_IMAGE, NGINX_EXPORTER_IMAGE, PROMETHEUS_IMAGE, REDIS_EXPORTER_IMAGE } from '../lib';
import { enginePath, eventually, freePort, startProcess, tempDir } from './support/engines';
import { configMapFile, findObject, synthEnvironment } from './support/synth';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const { ENGINES } = require('../scripts/engines/table') as { ENGINES: { name: string; version: string; binaries: string[] }[] };

/** How each binary tells its version. */
const VERSION_ARGS: Record<string, string[]> = {
  'kube-apiserver': ['--version'],
  'kube-controller-manager': ['--version'],
  'kubectl': ['version', '--client'],
  'etcd': ['--version'],
  'prometheus': ['--version'],
  'promtool': ['--version'],
  'alertmanager': ['--version'],
  'amtool': ['--version'],
  'redis_exporter': ['--version'],
  'nginx-prometheus-exporter': ['--version'],
  'node_exporter': ['--version'],
  'kube-score': ['version'],
  'kubeconform': ['-v'],
};

/** The tag of an image reference, without a leading v. */
const imageVersion = (image: string) => image.split(':').pop()!.replace(/^v/, '');
const engineVersion = (name: string) => ENGINES.find((e) => e.name === name)!.version.replace(/^v/, '');

describe('engines', () => {
  const versioned = ENGINES.flatMap((engine) => engine.binaries.filter((b) => VERSION_ARGS[b]).map((binary) => [binary, engine.name, engine.version] as const));

  test.each(versioned)('%s (engine %s) runs and says %s', (binary, _engine, version) => {
    // Some print it on stderr (kingpin's --version).
    const result = spawnSync(enginePath(binary), VERSION_ARGS[binary], { encoding: 'utf8' });
    expect(result.status).toBe(0);
    const output = `${result.stdout}${result.stderr}`;
    expect(output).toMatch(new RegExp(`\\bv?${version.replace(/^v/, '').replaceAll('.', '\\.')}\\b`));
  });

  test('every binary with a version is checked above (a new engine adds its line to VERSION_ARGS)', () => {
    const unchecked = ENGINES.filter((e) => e.version.startsWith('v')).flatMap((e) => e.binaries).filter((b) => !VERSION_ARGS[b]);
    expect(unchecked).toEqual([]);
  });

  test.each([
    ['prometheus', PROMETHEUS_IMAGE],
    ['alertmanager', ALERTMANAGER_IMAGE],
    ['redis_exporter', REDIS_EXPORTER_IMAGE],
    ['nginx-prometheus-exporter', NGINX_EXPORTER_IMAGE],
  ])('engine %s is built at the version of the image %s', (name, image) => {
    expect(engineVersion(name)).toBe(imageVersion(image));
  });

  test('the Alertmanager server runs dev\'s synthesized alertmanager.yml with the StatefulSet\'s arguments and serves its API', async () => {
    // GIVEN dev's config file and the container's arguments, with local paths and a loopback port
    const objects = synthEnvironment('dev');
    const dir = tempDir('alertmanager-server');
    const config = path.join(dir, 'alertmanager.yml');
    fs.writeFileSync(config, configMapFile(objects, 'dev-alertmanager', 'alertmanager.yml'));
    const port = await freePort();
    const local: Record<string, string> = { '--config.file': config, '--storage.path': path.join(dir, 'data'), '--web.listen-address': `127.0.0.1:${port}` };
    const args = (findObject(objects, 'StatefulSet', 'dev-alertmanager').spec.template.spec.containers[0].args as string[])
      .map((arg) => { const [flag] = arg.split('='); return flag in local ? `${flag}=${local[flag]}` : arg; });
    expect(args).toContain('--cluster.listen-address=');
    // WHEN the real server starts with them
    const server = startProcess(enginePath('alertmanager'), args);
    try {
      // THEN it gets ready, and its API reports the version and the configuration it loaded
      const base = `http://127.0.0.1:${port}`;
      await eventually(async () => (await fetch(`${base}/-/ready`).catch(() => undefined))?.ok || undefined, 20_000, () => `alertmanager never got ready:\n${server.output()}`);
      const status: Json = await (await fetch(`${base}/api/v2/status`)).json();
      expect(status.versionInfo.version).toBe(imageVersion(ALERTMANAGER_IMAGE));
      expect(status.cluster.status).toBe('disabled');
      expect(parse(status.config.original).route.receiver).toBe(parse(fs.readFileSync(config, 'utf8')).route.receiver);
    } finally {
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
