// Grafana's share of synth time: loading the PromQL parser and checking the shipped dashboards at
// every synth. Each figure is the median of fresh node processes, measured side by side in one run,
// in CPU time (user + system): on a shared machine wall time mostly measures the neighbours.
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..', '..');
const RUNS = 5;
// A PromQL parse record kept in a file across processes, as the synth keeps one in dist/'s index
// (scripts/synth-index.js): removed before each cold run, kept for warm ones. The library keeps
// none unless asked, so each snippet asks for this one.
const PARSE_RECORD = path.join(ROOT, '.bench', 'promql-parse-record.json');
const dropParseCache = () => fs.rmSync(PARSE_RECORD, { force: true });
const USE_PARSE_RECORD = `(() => {
  const fs = require('fs');
  const file = ${JSON.stringify(PARSE_RECORD)};
  let keys;
  try { keys = new Set(JSON.parse(fs.readFileSync(file, 'utf8'))); } catch { keys = new Set(); }
  require('./lib/grafana/promql.ts').recordPromqlParses({ has: (key) => keys.has(key), add: (key) => keys.add(key) });
  process.on('exit', () => { fs.mkdirSync(require('path').dirname(file), { recursive: true }); fs.writeFileSync(file, JSON.stringify([...keys])); });
})();`;

// Each snippet prints the CPU milliseconds it measured inside a fresh process.
const CPU = `const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };`;
const SNIPPETS = {
  cdk8s: `${CPU} require('cdk8s'); require('cdk8s-plus-27'); console.log(cpu());`,
  lezer: `${CPU} require('cdk8s'); require('cdk8s-plus-27'); const t = cpu(); require('@prometheus-io/lezer-promql'); console.log((cpu() - t));`,
  scan: `${CPU} require('./scripts/run-ts'); require('cdk8s'); const { scanDashboards } = require('./lib/grafana/dashboards.ts'); const { platformDashboardsDir } = require('./lib/grafana/grafana.ts');
    ${USE_PARSE_RECORD}
    const ds = [{ name: 'Prometheus', uid: 'prometheus', type: 'prometheus', url: 'http://p:9090', isDefault: true }];
    const t = cpu(); const r = scanDashboards([platformDashboardsDir()], ds); const first = (cpu() - t);
    const t2 = cpu(); scanDashboards([platformDashboardsDir()], ds); console.log(first, (cpu() - t2), r.dashboards.length);`,
  // Every environment of the app (app/environments.ts) on an EnvironmentChart (namespace,
  // default-deny policies) with a stand-in for Prometheus (restricted pods and their Service:
  // Grafana's NetworkPolicies need its pods), then Grafana with the props PlatformChart gives it.
  app: (withGrafana, dashboards) => `${CPU} require('./scripts/run-ts');
    const kplus = require('cdk8s-plus-27');
    const { EnvironmentChart, PlatformApp, Grafana, platformDashboardsDir, restrictPod } = require('./lib/index.ts');
    const { ENVIRONMENTS } = require('./app/environments.ts');
    ${USE_PARSE_RECORD}
    const app = new PlatformApp({ outdir: process.argv[1] });
    for (const environment of ENVIRONMENTS) {
      const chart = new EnvironmentChart(app, environment.name, { environment });
      const workload = restrictPod(new kplus.Deployment(chart, 'prometheus', { containers: [{ image: 'quay.io/prometheus/prometheus:v2.55.1', portNumber: 9090 }] }));
      const service = workload.exposeViaService({ ports: [{ port: 9090 }] });
      if (${withGrafana}) {
        const admin = environment.name + '-grafana-admin';
        new Grafana(chart, 'grafana', {
          prometheus: { service, port: 9090, url: 'http://p:9090', workload },
          adminUser: { name: admin, key: 'admin-user' },
          adminPassword: { name: admin, key: 'admin-password' },
          dashboardsDirs: ${dashboards} ? [platformDashboardsDir()] : [],
          ...environment.grafana,
        });
      }
    }
    app.synth(); console.log(cpu());`,
};

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function measure(code) {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-grafana-'));
  try {
    return execFileSync(process.execPath, ['-e', code, outdir], { cwd: ROOT, encoding: 'utf8' }).trim().split(/\s+/).map(Number);
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

module.exports = {
  title: 'Grafana: PromQL parser load and dashboard checks at synth',
  run: async () => {
    measure(SNIPPETS.app(true, true)); // fill the run-ts cache: transpiling is not what is measured
    const samples = { cdk8s: [], lezer: [], scanFirst: [], scanAgain: [], scanWarm: [], bare: [], noDashboards: [], cold: [], warm: [] };
    let dashboards = 0;
    // Interleaved, so machine noise hits every figure alike.
    for (let i = 0; i < RUNS; i++) {
      samples.cdk8s.push(measure(SNIPPETS.cdk8s)[0]);
      samples.lezer.push(measure(SNIPPETS.lezer)[0]);
      dropParseCache();
      const [first, again, count] = measure(SNIPPETS.scan);
      samples.scanFirst.push(first);
      samples.scanAgain.push(again);
      samples.scanWarm.push(measure(SNIPPETS.scan)[0]);
      dashboards = count;
      samples.bare.push(measure(SNIPPETS.app(false, false))[0]);
      samples.noDashboards.push(measure(SNIPPETS.app(true, false))[0]);
      dropParseCache();
      samples.cold.push(measure(SNIPPETS.app(true, true))[0]);
      samples.warm.push(measure(SNIPPETS.app(true, true))[0]);
    }
    const m = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
    const ms = (v) => `${v.toFixed(1)} ms CPU`;
    return [
      `median of ${RUNS} fresh processes each (load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} CPUs at the end)`,
      `node -e "require('cdk8s'); require('cdk8s-plus-27')" (the synth budget's unit), whole process: ${ms(m.cdk8s)}`,
      `require @prometheus-io/lezer-promql after them: ${ms(m.lezer)} (${(m.lezer / m.cdk8s * 100).toFixed(0)}% of the unit)`,
      `check the ${dashboards} shipped dashboards (read, parse JSON, resolve placeholders, check every PromQL): no parse cache ${ms(m.scanFirst)} (parser loaded and run), ` +
        `again in the same process ${ms(m.scanAgain)}, next process with the parse cache ${ms(m.scanWarm)} (no parser loaded)`,
      `3-environment app synth (EnvironmentCharts with a stand-in Prometheus), whole process: no Grafana ${ms(m.bare)}; Grafana without dashboards ${ms(m.noDashboards)}; ` +
        `with the shipped dashboards ${ms(m.cold)} without parse cache, ${ms(m.warm)} with it`,
      `Grafana with dashboards adds ${ms(m.warm - m.bare)} with the parse cache (${((m.warm - m.bare) / m.cdk8s).toFixed(2)}x the unit), ${ms(m.cold - m.bare)} without (${((m.cold - m.bare) / m.cdk8s).toFixed(2)}x)`,
      `app synth / unit: ${(m.bare / m.cdk8s).toFixed(2)} without Grafana, ${(m.warm / m.cdk8s).toFixed(2)} with it (parse cache), ${(m.cold / m.cdk8s).toFixed(2)} (no parse cache)`,
    ];
  },
};

if (require.main === module) module.exports.run().then((lines) => console.log(lines.join('\n')));
