// The engines of scripts/engines/table.js (`npm run engines`) run and say the version they are
// pinned at, and the exporters and servers the charts deploy are built at their image's version.
// A missing engine fails here (enginePath), never skips.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import { parse } from 'yaml';
import { ALERTMANAGER_IMAGE, KUBE_STATE_METRICS_IMAGE, NGINX_EXPORTER_IMAGE, NODE_EXPORTER_IMAGE, PROMETHEUS_IMAGE, REDIS_EXPORTER_IMAGE } from '../lib';
import { enginePath, eventually, freePort, startProcess, tempDir } from './support/engines';
import { synthEnvironment } from './support/synth';
import { startAlertmanager } from './observability/alerting';
import { container, localPod } from './observability/pods';

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
  'kube-state-metrics': ['version'],
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
    ['node_exporter', NODE_EXPORTER_IMAGE],
    ['kube-state-metrics', KUBE_STATE_METRICS_IMAGE],
  ])('engine %s is built at the version of the image %s', (name, image) => {
    expect(engineVersion(name)).toBe(imageVersion(image));
  });

  /** dev's Alertmanager pod (test/observability/alerting.ts), ready to answer its API. */
  async function startDevAlertmanager() {
    const objects = synthEnvironment('dev');
    const dir = tempDir('alertmanager-server');
    const pod = localPod(objects, 'StatefulSet', 'dev-alertmanager');
    const server = await startAlertmanager(objects, pod, dir);
    const base = `http://${server.address}`;
    const stop = async () => {
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    };
    try {
      await eventually(async () => (await fetch(`${base}/-/ready`).catch(() => undefined))?.ok || undefined, 20_000, () => `alertmanager never got ready:\n${server.output()}`);
    } catch (error) {
      await stop();
      throw error;
    }
    return { args: container(pod, 'alertmanager').args ?? [], config: server.configFile, base, server, stop };
  }

  test('the Alertmanager server runs dev\'s synthesized alertmanager.yml with the StatefulSet\'s arguments and serves its API', async () => {
    // GIVEN dev's config file and the container's arguments, with local paths and a loopback port
    // WHEN the real server starts with them and gets ready
    const alertmanager = await startDevAlertmanager();
    try {
      // THEN it ran without peers, and its API reports the version and the configuration it loaded
      expect(alertmanager.args).toContain('--cluster.listen-address=');
      const status: Json = await (await fetch(`${alertmanager.base}/api/v2/status`)).json();
      expect(status.versionInfo.version).toBe(imageVersion(ALERTMANAGER_IMAGE));
      expect(status.cluster.status).toBe('disabled');
      expect(parse(status.config.original).route.receiver).toBe(parse(fs.readFileSync(alertmanager.config, 'utf8')).route.receiver);
    } finally {
      await alertmanager.stop();
    }
  }, 60_000);

  test('dev\'s default inhibition: a critical alert about a pod mutes TargetDown of that pod only, not its other warnings', async () => {
    // GIVEN the real Alertmanager on dev's config
    const alertmanager = await startDevAlertmanager();
    try {
      // WHEN Redis is down on redis-0 while its exporter's target is down and its memory near max,
      // another pod's target is down, and a critical and a TargetDown without `pod` fire in the
      // same namespace
      const namespace = 'platform-dev';
      const alert = (labels: Record<string, string>) => ({ labels: { namespace, ...labels }, startsAt: new Date().toISOString() });
      const posted = await fetch(`${alertmanager.base}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify([
          alert({ alertname: 'RedisDown', severity: 'critical', pod: 'dev-redis-0', job: 'kubernetes-pods' }),
          alert({ alertname: 'TargetDown', severity: 'warning', pod: 'dev-redis-0', job: 'kubernetes-pods' }),
          alert({ alertname: 'RedisMemoryNearMax', severity: 'warning', pod: 'dev-redis-0', job: 'kubernetes-pods' }),
          alert({ alertname: 'TargetDown', severity: 'warning', pod: 'dev-nginx-0', job: 'kubernetes-pods' }),
          alert({ alertname: 'RouterDecisionErrorsHigh', severity: 'critical' }),
          alert({ alertname: 'TargetDown', severity: 'warning' }),
        ]),
      });
      expect(posted.status).toBe(200);
      // THEN only the same pod's warning is inhibited, by RedisDown (the inhibitor learns sources asynchronously)
      const key = (a: Json) => `${a.labels.alertname}/${a.labels.pod ?? '-'}`;
      const alerts = await eventually(async () => {
        const got = await (await fetch(`${alertmanager.base}/api/v2/alerts`)).json() as Json[];
        return got.length === 6 && got.some((a) => a.status.inhibitedBy.length) ? got : undefined;
      }, 10_000, () => `no alert inhibited:\n${alertmanager.server.output()}`);
      const byKey = Object.fromEntries(alerts.map((a) => [key(a), a]));
      expect(Object.fromEntries(alerts.map((a) => [key(a), a.status.state]))).toEqual({
        'RedisDown/dev-redis-0': 'active',
        'TargetDown/dev-redis-0': 'suppressed',
        'RedisMemoryNearMax/dev-redis-0': 'active',
        'TargetDown/dev-nginx-0': 'active',
        'RouterDecisionErrorsHigh/-': 'active',
        'TargetDown/-': 'active',
      });
      expect(byKey['TargetDown/dev-redis-0'].status.inhibitedBy).toEqual([byKey['RedisDown/dev-redis-0'].fingerprint]);
    } finally {
      await alertmanager.stop();
    }
  }, 60_000);

  describe('go-service (examples/go-service)', () => {
    const goService = () => enginePath('go-service');
    const get = async (url: string) => fetch(url).then(async (res) => ({ status: res.status, body: await res.text() }));

    test('serves client_golang metrics with its request counter and histogram on the public port, pprof only on the loopback port', async () => {
      const [publicPort, pprofPort] = [await freePort(), await freePort()];
      const service = startProcess(goService(), [`-listen=127.0.0.1:${publicPort}`, `-pprof-listen=127.0.0.1:${pprofPort}`]);
      try {
        const base = `http://127.0.0.1:${publicPort}`;
        await eventually(async () => (await fetch(`${base}/readyz`).catch(() => undefined))?.ok || undefined, 10_000, () => `go-service never got ready:\n${service.output()}`);
        expect((await get(`${base}/`)).status).toBe(200);
        expect((await get(`${base}/work?ms=5`)).status).toBe(200);
        const metrics = (await get(`${base}/metrics`)).body;
        // The Go runtime dashboard's series, the process collector's, and its own request metrics.
        for (const name of ['go_goroutines', 'go_memstats_heap_alloc_bytes', 'go_gc_duration_seconds_count', 'process_cpu_seconds_total', 'process_resident_memory_bytes']) expect(metrics).toMatch(new RegExp(`^${name}[ {]`, 'm'));
        expect(metrics).toMatch(/^http_requests_total\{code="200",handler="hello",method="get"\} 1$/m);
        expect(metrics).toMatch(/^http_request_duration_seconds_count\{code="200",handler="work",method="get"\} 1$/m);
        // pprof: on its own port, never on the public one.
        expect((await get(`${base}/debug/pprof/`)).status).toBe(404);
        const index = await get(`http://127.0.0.1:${pprofPort}/debug/pprof/`);
        expect(index.status).toBe(200);
        expect(index.body).toContain('goroutine');
        expect((await get(`http://127.0.0.1:${pprofPort}/debug/pprof/heap?debug=1`)).body).toContain('heap profile');
      } finally {
        await service.stop();
      }
    }, 30_000);

    test('serves the metrics on a port of their own with -metrics-listen', async () => {
      const [publicPort, metricsPort] = [await freePort(), await freePort()];
      const service = startProcess(goService(), [`-listen=127.0.0.1:${publicPort}`, `-metrics-listen=127.0.0.1:${metricsPort}`, '-pprof-listen=']);
      try {
        const metrics = await eventually(async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`).catch(() => undefined))?.text(), 10_000, () => `no metrics:\n${service.output()}`);
        expect(metrics).toContain('go_goroutines');
        expect((await get(`http://127.0.0.1:${publicPort}/metrics`)).status).toBe(404);
      } finally {
        await service.stop();
      }
    }, 30_000);

    test('refuses a pprof address another machine could reach', () => {
      const result = spawnSync(goService(), ['-listen=127.0.0.1:0', '-pprof-listen=:6060'], { encoding: 'utf8', timeout: 10_000 });
      expect(result.status).not.toBe(0);
      expect(result.stderr).toContain('-pprof-listen: ":6060" is not a loopback address');
    });
  });
});
