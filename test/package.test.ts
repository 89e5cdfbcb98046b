// The package as other teams get it: packed once (npm pack), unpacked outside the repo, with a
// copy of the example team app (examples/team-app) laid beside it and installed from its own
// committed lock. On that one install: what the package ships, the public API only, every ts block
// of the READMEs, the example synthesized with `npx cdk8s synth` (the template's
// `npx ts-node main.ts`) and gated like dist/, then each way a team can depend on the library,
// each swapping only the library: the tarball, a local copy (`--install-links`), a symlink.
// One suite packs: `npm pack` rebuilds build/, which a second packing suite would race.
import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import { checkDocBlocks, tsBlocks } from './support/doc-blocks';
import { kubeScoreExceptions } from './policy/exceptions';
import { platformGate } from './support/gate';
import { run, tempDir } from './support/engines';

const ROOT = path.join(__dirname, '..');
const EXAMPLE = path.join(ROOT, 'examples', 'team-app');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const NPX = process.platform === 'win32' ? 'npx.cmd' : 'npx';
// The cdk8s CLI asks the registry for a newer version of itself unless told not to.
const ENV = { ...process.env, CDK8S_CHECK_UPGRADE: 'false', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };
// Offline: every package of the example's lock is one of the repository's lock (a test below checks),
// so the repository's own `npm ci` has put each in npm's cache and the suite needs no registry.
const INSTALL = ['--offline', '--no-audit', '--no-fund'];

/** `name@version` of every package a lock file installs from a registry. */
function lockedPackages(lockFile: string): string[] {
  const packages: Record<string, { version?: string; link?: boolean; resolved?: string }> = JSON.parse(fs.readFileSync(lockFile, 'utf8')).packages;
  return Object.entries(packages)
    .filter(([where, p]) => where !== '' && !p.link && !p.resolved?.startsWith('file:'))
    .map(([where, p]) => `${where.replace(/.*node_modules\//, '')}@${p.version}`);
}

// Another team's cdk8s app, outside the repo, using the public API only.
const CONSUMER_TS = `
import { App, Testing, YamlOutputType } from 'cdk8s';
import { PlatformChart, EnvironmentConfig, ValidationError } from 'cdk8s-platform-stack';

declare const process: { argv: string[] };
declare const console: { log(message: string): void };

const environment: EnvironmentConfig = { name: 'team-a' };
const app = new App({ outdir: process.argv[2], yamlOutputType: YamlOutputType.FOLDER_PER_CHART_FILE_PER_RESOURCE });
new PlatformChart(app, environment.name, { environment });
app.synth();
try {
  new PlatformChart(Testing.app(), 'Bad_Name', { environment: { name: 'Bad_Name' } });
} catch (error) {
  console.log(error instanceof ValidationError ? 'ValidationError' : 'other error');
}
`;

/** Wall time of each step, printed with PLATFORM_STACK_TIMINGS=1 (figures for the README, not assertions). */
const timings: [string, number][] = [];
function timed<T>(step: string, work: () => T): T {
  const start = performance.now();
  try {
    return work();
  } finally {
    timings.push([step, Math.round(performance.now() - start)]);
  }
}

/** Every file under `dir` with its content, by relative path. */
function files(dir: string): Record<string, string> {
  return Object.fromEntries(fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort().filter((f) => fs.statSync(path.join(dir, f)).isFile()).map((f) => [f, fs.readFileSync(path.join(dir, f), 'utf8')]));
}

// The connections main.ts wires, and some it does not: the gate checks both.
const CONNECTIONS = {
  allowed: [
    ['orders/orders-nginx', 'orders/orders-router'],
    ['orders/orders-nginx', 'orders/orders-api'],
    ['orders/orders-nginx', 'orders/orders-api-canary'],
    ['orders/orders-api', 'orders/orders-redis'],
    ['orders/orders-api-canary', 'orders/orders-redis'],
    ['orders/orders-grafana', 'monitoring/monitoring-prometheus'],
    ['payments/payments-grafana', 'monitoring/monitoring-prometheus'],
  ],
  denied: [
    ['orders/orders-nginx', 'orders/orders-redis'],
    ['orders/orders-router', 'orders/orders-api'],
    ['payments/payments-grafana', 'orders/orders-redis'],
  ],
} as const;

// The library's workloads keep the environments' exceptions (test/policy/exceptions.ts).
const LIBRARY_WORKLOADS = ['Deployment/orders-grafana', 'Deployment/payments-grafana', 'Deployment/orders-nginx', 'Deployment/orders-router', 'Deployment/monitoring-prometheus', 'StatefulSet/orders-redis'];
const EXCEPTIONS = [
  { object: 'Deployment/monitoring-prometheus', check: 'platform/service-account-token', reason: 'Prometheus discovers its targets through the API (test/policy/exceptions.ts)' },
  ...kubeScoreExceptions('container-image-pull-policy', LIBRARY_WORKLOADS),
  ...kubeScoreExceptions('container-security-context-user-group-id', LIBRARY_WORKLOADS.filter((w) => w !== 'Deployment/monitoring-prometheus')),
];

describe('the package other teams install', () => {
  let scratch: string;
  let tarball: string;
  let shipped: string[];
  let app: string;

  /**
   * `npx cdk8s synth` in the app: the manifests it wrote, by file. After the first synth has
   * type-checked main.ts, swapping the library changes no type: ts-node may skip the check.
   */
  const synth = (step: string, typeCheck = false): Record<string, string> => {
    const env = typeCheck ? ENV : { ...ENV, TS_NODE_TRANSPILE_ONLY: 'true' };
    timed(`${step}: npx cdk8s synth`, () => run(NPX, ['cdk8s', 'synth'], { cwd: app, env }));
    return files(path.join(app, 'dist'));
  };
  const install = (step: string, args: string[]) => timed(`${step}: npm ${args.join(' ')}`, () => run(NPM, [...args, ...INSTALL], { cwd: app, env: ENV }));

  beforeAll(() => {
    scratch = tempDir('package-test');
    // npm pack runs prepack: a fresh build of lib/ into build/, which the local-copy install reuses.
    const packed = timed('npm pack', () => JSON.parse(run(NPM, ['pack', '--json', '--pack-destination', scratch], { cwd: ROOT, env: ENV })));
    tarball = path.join(scratch, packed[0].filename);
    shipped = packed[0].files.map((f: { path: string }) => f.path);
    // The app's package.json depends on `file:../..`: lay it two levels under the unpacked package,
    // so its committed lock installs exactly what the tarball holds.
    const unpacked = path.join(scratch, 'package');
    run('tar', ['-xzf', tarball, '-C', scratch]);
    app = path.join(unpacked, 'examples', 'team-app');
    fs.cpSync(EXAMPLE, app, { recursive: true, filter: (source) => !/[/\\](node_modules|dist)$/.test(source) });
    install('the committed lock', ['ci']);
  }, 300_000);
  afterAll(() => {
    if (process.env.PLATFORM_STACK_TIMINGS) console.log(timings.map(([step, ms]) => `${ms} ms  ${step}`).join('\n'));
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  });

  test('ships compiled JS, type declarations, the module manuals and the LICENSE, without sources, tests, the app or dist/', () => {
    expect(shipped).toEqual(expect.arrayContaining(['package.json', 'LICENSE', 'CHANGELOG.md', 'build/lib/index.js', 'build/lib/index.d.ts', 'build/lib/platform-chart.js']));
    expect(shipped.filter((f) => /\.test\.|^test\/|^dist\/|^app\/|^lib\/|^main\.|^examples\/|\.ts$/.test(f) && !f.endsWith('.d.ts') && !/^lib\/[a-z-]+\/README\.md$/.test(f))).toEqual([]);
    // The manuals the declarations point to (`see lib/router/README.md`), at those paths.
    expect(shipped).toEqual(expect.arrayContaining(['lib/grafana/README.md', 'lib/nginx/README.md', 'lib/prometheus/README.md', 'lib/redis/README.md', 'lib/router/README.md']));
  });

  test('type-checks a consumer against the shipped declarations (node16 resolution: the exports map) and synthesizes through the public API', () => {
    // GIVEN a consumer's main.ts in the installed app
    const consumer = path.join(app, 'consumer');
    fs.mkdirSync(consumer, { recursive: true });
    fs.writeFileSync(path.join(consumer, 'main.ts'), CONSUMER_TS);
    // WHEN it type-checks against the shipped declarations and runs
    run(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '--strict', '--target', 'es2022', '--moduleResolution', 'node16', '--module', 'node16', '--skipLibCheck', '--outDir', 'out', 'main.ts'], { cwd: consumer });
    const output = run(process.execPath, [path.join('out', 'main.js'), path.join(consumer, 'dist')], { cwd: consumer });
    // THEN its chart is synthesized and bad input raises the library's ValidationError
    expect(output.trim()).toBe('ValidationError');
    expect(fs.readdirSync(path.join(consumer, 'dist', 'team-a'))).toContain('Namespace.platform-team-a.k8s.yaml');
  }, 120_000);

  test("the example app's lock installs only packages of the repository's lock (so the suite installs offline)", () => {
    const repository = new Set(lockedPackages(path.join(ROOT, 'package-lock.json')));
    expect(lockedPackages(path.join(EXAMPLE, 'package-lock.json')).filter((p) => !repository.has(p))).toEqual([]);
  });

  test('exposes only the public API: deep imports are refused', () => {
    expect(() => run(process.execPath, ['-e', "require('cdk8s-platform-stack/build/lib/core/validation')"], { cwd: app })).toThrow(/ERR_PACKAGE_PATH_NOT_EXPORTED/);
  });

  describe('docs that cannot rot', () => {
    const readmes = ['README.md', ...fs.readdirSync(path.join(ROOT, 'lib')).map((d) => path.join('lib', d, 'README.md')).filter((f) => fs.existsSync(path.join(ROOT, f)))];

    test('every ```ts block of README.md and lib/*/README.md compiles against the packed declarations and synthesizes', () => {
      const blocks = tsBlocks(ROOT, readmes);
      expect(blocks.length).toBeGreaterThanOrEqual(8);
      expect(timed('doc blocks', () => checkDocBlocks(blocks, app))).toEqual([]);
    }, 120_000);

    test('the check catches a block that does not compile and one that throws, naming the README line', () => {
      const notCompiling = { where: 'lib/x/README.md:10', code: "import { Redis } from 'cdk8s-platform-stack';\n\nnew Redis(chart, 'redis', { preset: 'sometimes' });\n" };
      const throwing = { where: 'lib/y/README.md:20', code: "import { Redis } from 'cdk8s-platform-stack';\nnew Redis(chart, 'redis', { appendFsync: 'sometimes' as never });\n" };
      expect(checkDocBlocks([notCompiling, throwing], app)).toEqual([
        expect.stringMatching(/^lib\/x\/README\.md:12 does not compile: Type '"sometimes"' is not assignable/),
        expect.stringMatching(/^lib\/y\/README\.md:20 fails to synthesize: .*appendFsync must be one of/),
      ]);
    }, 120_000);

    test('the packed package ships the READMEs its declarations point to', () => {
      const installed = path.join(app, 'node_modules', 'cdk8s-platform-stack');
      const pointers = [...new Set(Object.values(files(path.join(installed, 'build'))).flatMap((text) => [...text.matchAll(/\b(lib\/[a-z-]+\/README\.md)/g)].map((m) => m[1])))];
      expect(pointers.length).toBeGreaterThan(0);
      expect(pointers.filter((p) => !fs.existsSync(path.join(installed, p)))).toEqual([]);
    });
  });

  describe('the example team app and the three ways to install the library', () => {
    let committed: Record<string, string>;
    test('npm ci + npx cdk8s synth: the manifests pass the platform gate (kube-score and our own policy checks, secrets, kubeconform -strict, NetworkPolicy reachability)', async () => {
      committed = synth('the committed lock', true);
      expect(Object.keys(committed).length).toBeGreaterThan(0);
      expect(await platformGate(path.join(app, 'dist'), { exceptions: EXCEPTIONS, connections: CONNECTIONS })).toEqual([]);
    }, 120_000);

    test('the packed tarball (`npm install ./cdk8s-platform-stack-<version>.tgz`) synthesizes the same manifests', () => {
      install('tarball', ['install', tarball]);
      expect(fs.lstatSync(path.join(app, 'node_modules', 'cdk8s-platform-stack')).isSymbolicLink()).toBe(false);
      expect(synth('tarball')).toEqual(committed);
      // AND the team's own alert and dashboard, brought by its API (addMonitoring), reach the shared
      // Prometheus of another chart (it scrapes the orders namespace) and the orders Grafana
      const objects = Object.values(committed).flatMap((text) => YAML.parseAllDocuments(text).map((d) => d.toJS())).filter((o) => o?.kind === 'ConfigMap');
      const rules = objects.find((o) => o.metadata.name.startsWith('monitoring-prometheus') && o.data['orders-api.rules.yml']);
      expect(YAML.parse(rules.data['orders-api.rules.yml']).groups[0].rules.map((r: { alert: string }) => r.alert)).toEqual(['OrdersApiGoroutineLeak']);
      expect(objects.filter((o) => o.metadata.name.startsWith('orders-grafana-dashboard-') && !o.metadata.name.startsWith('orders-grafana-dashboard-providers')).map((o) => o.metadata.name).sort()).toEqual([
        'orders-grafana-dashboard-orders-orders-api', 'orders-grafana-dashboard-platform-go-runtime', 'orders-grafana-dashboard-platform-nginx-router', 'orders-grafana-dashboard-platform-redis',
      ]);
    }, 120_000);

    test('a local copy of the working tree (`npm install --install-links <library>` after its build) synthesizes the same manifests', () => {
      install('local copy', ['install', '--install-links', ROOT]);
      const installed = path.join(app, 'node_modules', 'cdk8s-platform-stack');
      expect(fs.lstatSync(installed).isSymbolicLink()).toBe(false);
      // A copy of what `npm pack` ships, never the sources or the library's own node_modules.
      expect(fs.existsSync(path.join(installed, 'node_modules', 'cdk8s'))).toBe(false);
      expect(synth('local copy')).toEqual(committed);
    }, 120_000);

    test('a team workload that Pod Security "restricted" would refuse fails the synth, naming it and the fix, and writes nothing', () => {
      // GIVEN the example with its Go services left unhardened (no restrictPod)
      const source = fs.readFileSync(path.join(app, 'main.ts'), 'utf8');
      const unhardened = source.replace(/^\s*restrictPod\(deployment\);.*$/m, '');
      expect(unhardened).not.toEqual(source);
      fs.writeFileSync(path.join(app, 'unhardened.ts'), unhardened);
      // WHEN it synthesizes THEN it fails with the workload, the field and the fix
      const env = { ...ENV, TS_NODE_TRANSPILE_ONLY: 'true' };
      expect(() => run(NPX, ['cdk8s', 'synth', '--app', 'npx ts-node unhardened.ts', '--output', 'dist-unhardened'], { cwd: app, env }))
        .toThrow(/Deployment 'orders-api-c8[0-9a-f]{6}' \(orders\/api\/Resource\) would be refused by Pod Security "restricted", which namespace 'orders' enforces: .*seccompProfile.*restrictPod\(workload\)/);
      expect(fs.existsSync(path.join(app, 'dist-unhardened')) ? fs.readdirSync(path.join(app, 'dist-unhardened')) : []).toEqual([]);
    }, 120_000);

    test('a symlink (`npm install <library>` without --install-links, or npm link) works, or fails at load saying what to do', () => {
      install('symlink', ['install', '--install-links=false', ROOT]);
      expect(fs.lstatSync(path.join(app, 'node_modules', 'cdk8s-platform-stack')).isSymbolicLink()).toBe(true);
      let output: Record<string, string> | undefined;
      let failure = '';
      try {
        output = synth('symlink');
      } catch (error) {
        failure = (error as Error).message;
      }
      if (output) {
        expect(output).toEqual(committed);
      } else {
        // One clear message: what happened (two copies of cdk8s) and what to do instead.
        expect(failure).toMatch(/--install-links/);
        expect(failure).not.toMatch(/can't render non-simple object/);
      }
    }, 120_000);
  });
});
