// The example team app (examples/team-app), as another team gets it: a copy outside the repo,
// its own committed lock, `npx cdk8s synth` with the template's `npx ts-node main.ts`, and the
// platform gate on what it writes. Then each way a team can depend on the library, in one
// node_modules (each install only swaps the library): the packed tarball, a local copy of the
// working tree (`--install-links`), and a symlink.
import * as fs from 'fs';
import * as path from 'path';
import { checkDocBlocks, tsBlocks } from './support/doc-blocks';
import { platformGate } from './support/gate';
import { run, tempDir } from './support/engines';

const ROOT = path.join(__dirname, '..');
const EXAMPLE = path.join(ROOT, 'examples', 'team-app');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const NPX = process.platform === 'win32' ? 'npx.cmd' : 'npx';
// The cdk8s CLI asks the registry for a newer version of itself unless told not to.
const ENV = { ...process.env, CDK8S_CHECK_UPGRADE: 'false', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };
const INSTALL = ['--prefer-offline', '--no-audit', '--no-fund'];

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

const EXCEPTIONS = [
  { object: 'Deployment/monitoring-prometheus', check: 'platform/service-account-token', reason: 'Prometheus discovers its targets through the API (test/policy/exceptions.ts)' },
];

describe('the example team app, installed as another team installs the library', () => {
  let scratch: string;
  let tarball: string;
  let app: string;

  /** `npx cdk8s synth` in the app: the manifests it wrote, by file. */
  const synth = (step: string): Record<string, string> => {
    timed(`${step}: npx cdk8s synth`, () => run(NPX, ['cdk8s', 'synth'], { cwd: app, env: ENV }));
    return files(path.join(app, 'dist'));
  };
  const install = (step: string, args: string[]) => timed(`${step}: npm ${args.join(' ')}`, () => run(NPM, [...args, ...INSTALL], { cwd: app, env: ENV }));

  beforeAll(() => {
    scratch = tempDir('examples-test');
    // npm pack runs prepack: a fresh build of lib/ into build/, which the local-copy install reuses.
    const packed = timed('npm pack', () => JSON.parse(run(NPM, ['pack', '--json', '--pack-destination', scratch], { cwd: ROOT, env: ENV })));
    tarball = path.join(scratch, packed[0].filename);
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

  let committed: Record<string, string>;
  test('npm ci + npx cdk8s synth: the manifests pass the platform gate (policy, secrets, schema, NetworkPolicy reachability)', () => {
    committed = synth('the committed lock');
    expect(Object.keys(committed).length).toBeGreaterThan(0);
    expect(platformGate(path.join(app, 'dist'), { exceptions: EXCEPTIONS, connections: CONNECTIONS })).toEqual([]);
  }, 120_000);

  test('the packed tarball (`npm install ./cdk8s-platform-stack-<version>.tgz`) synthesizes the same manifests', () => {
    install('tarball', ['install', tarball]);
    expect(fs.lstatSync(path.join(app, 'node_modules', 'cdk8s-platform-stack')).isSymbolicLink()).toBe(false);
    expect(synth('tarball')).toEqual(committed);
  }, 120_000);

  test('a local copy of the working tree (`npm install --install-links <library>` after its build) synthesizes the same manifests', () => {
    install('local copy', ['install', '--install-links', ROOT]);
    const installed = path.join(app, 'node_modules', 'cdk8s-platform-stack');
    expect(fs.lstatSync(installed).isSymbolicLink()).toBe(false);
    // A copy of what `npm pack` ships, never the sources or the library's own node_modules.
    expect(fs.existsSync(path.join(installed, 'node_modules', 'cdk8s'))).toBe(false);
    expect(synth('local copy')).toEqual(committed);
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
