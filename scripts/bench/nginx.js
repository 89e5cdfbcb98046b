// Benchmark: requests/s through the dynamic route (auth_request to the real router, then proxy)
// against a direct proxy_pass to the same backend, both through the generated nginx.conf, with the
// decision cache off and on. wrk on 127.0.0.1, one run per case, side by side in one process.
// Goals (issue 13): >= 0.9x with the decision cache (on by default), >= 0.5x without.
require('../run-ts');
const fs = require('fs');
const { execFileSync } = require('child_process');
const { requireEngine, freePort } = require('../../test/support/engines.ts');
const { configMapFile } = require('../../test/support/synth.ts');
const { synthStack } = require('../../test/nginx/chart.ts');
const { startRoutedBackend, startNginx, localModel, sharedTempDir, get } = require('../../test/nginx/stack.ts');

// The machine is shared: the two routes run in alternating 1 s slices, so background load hits
// both alike. The ratio is the median of the paired slices' ratios (robust to a noisy slice);
// req/s is the mean of the slices, p99 the median of the slices' p99s.
const ROUNDS = Number(process.env.BENCH_ROUNDS || 6);
const SLICE_SECONDS = Number(process.env.BENCH_SLICE_SECONDS || 1); // wrk takes whole seconds
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS || 32);

function wrk(url) {
  const out = execFileSync(requireEngine('wrk', 'wrk'), ['-t', '1', '-c', String(CONNECTIONS), '-d', `${SLICE_SECONDS}s`, '--latency', '--timeout', '2s', url], { encoding: 'utf8', timeout: (SLICE_SECONDS + 20) * 1000 });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const p99 = /\s99%\s+([\d.]+)(us|ms|s)/.exec(out);
  const p99ms = p99 ? Number(p99[1]) * { us: 0.001, ms: 1, s: 1000 }[p99[2]] : NaN;
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? '0';
  if (!(rps > 0)) throw new Error(`cannot read wrk output:\n${out}`);
  return { rps, p99ms, errors: Number(errors) };
}

function median(values) {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Alternates the two routes ROUNDS times; mean req/s and median p99 of each. */
function sideBySide(directUrl, dynamicUrl) {
  const slices = { direct: [], dynamic: [] };
  for (let i = 0; i < ROUNDS; i++) {
    slices.direct.push(wrk(directUrl));
    slices.dynamic.push(wrk(dynamicUrl));
  }
  const sum = (list) => ({ rps: list.reduce((t, r) => t + r.rps, 0) / list.length, p99ms: median(list.map((r) => r.p99ms)), errors: list.reduce((t, r) => t + r.errors, 0) });
  const ratios = slices.direct.map((d, i) => slices.dynamic[i].rps / d.rps);
  return { direct: sum(slices.direct), dynamic: sum(slices.dynamic), ratio: median(ratios), spread: [Math.min(...ratios), Math.max(...ratios)] };
}

async function run() {
  const stack = synthStack({ routerTimeoutMs: 1000 });
  const stops = [];
  const dirs = [];
  try {
    const { backendPort, router } = await startRoutedBackend(configMapFile(stack.objects, 'test-router-config', 'rules.json'), 'bench-router', stops, dirs);
    // Both allowlisted names point at the one backend: the direct and the dynamic route end at the same server.
    const backends = { 'app-a': `127.0.0.1:${backendPort}`, 'app-b': `127.0.0.1:${backendPort}` };
    const lines = [];
    const results = {};
    for (const [label, construct] of [['cache off', stack.nginx], ['cache on (1 s, the default)', stack.cachedNginx]]) {
      const dir = sharedTempDir('bench-nginx');
      dirs.push(dir);
      const ports = { listen: await freePort(), health: await freePort(), status: await freePort() };
      // Access log off for the run: the same for both routes, and not what is measured.
      const local = localModel(construct.confModel, dir, ports, { router: `127.0.0.1:${router.port}`, backends }, false);
      // The pod's cache emptyDir is memory-backed: so is this one, where the machine has /dev/shm.
      const shm = fs.existsSync('/dev/shm') ? fs.mkdtempSync('/dev/shm/bench-nginx-cache-') : undefined;
      if (shm) { fs.chmodSync(shm, 0o755); dirs.push(shm); }
      const nginx = await startNginx(shm ? { ...local, paths: { ...local.paths, cacheDir: `${shm}/route` } } : local, dir);
      stops.push(nginx.stop);
      // Sanity: both routes reach the backend before measuring.
      for (const p of ['/direct/bench', '/b/bench']) {
        const reply = await get(nginx.port, p);
        if (reply.status !== 200) throw new Error(`${p}: ${reply.status} ${reply.body}`);
      }
      results[label] = sideBySide(`http://127.0.0.1:${nginx.port}/direct/bench`, `http://127.0.0.1:${nginx.port}/b/bench`);
      await nginx.stop();
    }
    const goal = { 'cache off': 0.5, 'cache on (1 s, the default)': 0.9 };
    lines.push(`wrk -t1 -c${CONNECTIONS}, ${ROUNDS} alternating ${SLICE_SECONDS}s slices per route, 127.0.0.1, Node.js backend and router, ${require('os').cpus().length} CPUs shared (load average ${require('os').loadavg()[0].toFixed(1)} at the end)`);
    for (const [label, r] of Object.entries(results)) {
      lines.push(
        `${label}: dynamic/direct = ${r.ratio.toFixed(2)}x (slices ${r.spread[0].toFixed(2)}-${r.spread[1].toFixed(2)}; goal >= ${goal[label]}x: ${r.ratio >= goal[label] ? 'met' : 'NOT met'}); ` +
          `direct ${r.direct.rps.toFixed(0)} req/s p99 ${r.direct.p99ms.toFixed(2)} ms; dynamic ${r.dynamic.rps.toFixed(0)} req/s p99 ${r.dynamic.p99ms.toFixed(2)} ms` +
          (r.direct.errors + r.dynamic.errors ? `; non-2xx: ${r.direct.errors + r.dynamic.errors}` : ''),
      );
    }
    return lines;
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  }
}

module.exports = { title: 'NGINX dynamic route vs direct proxy_pass (wrk)', run };

if (require.main === module) run().then((lines) => console.log(lines.join('\n')), (error) => { console.error(error); process.exit(1); });
