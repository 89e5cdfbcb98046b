import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { run, tempDir } from './support/engines';

const ROOT = path.join(__dirname, '..');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const rootPackage = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

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

describe('the package other teams install', () => {
  let scratch: string;
  let tarball: string;
  let files: string[];

  beforeAll(() => {
    scratch = tempDir('package-test');
    // npm pack runs prepack: a fresh tsc build of lib/ into build/.
    const packed = JSON.parse(execFileSync(NPM, ['pack', '--json', '--pack-destination', scratch], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
    tarball = path.join(scratch, packed[0].filename);
    files = packed[0].files.map((f: { path: string }) => f.path);
  }, 120_000);
  afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

  test('ships compiled JS, type declarations, the READMEs they point to and the LICENSE, without sources, tests or dist/', () => {
    expect(files).toEqual(expect.arrayContaining(['package.json', 'LICENSE', 'CHANGELOG.md', 'build/lib/index.js', 'build/lib/index.d.ts', 'build/lib/platform-chart.js', 'lib/grafana/README.md', 'lib/redis/README.md']));
    expect(files.filter((f) => /\.test\.|^test\/|^dist\/|^app\/|^lib\/|^main\.|\.ts$/.test(f) && !f.endsWith('.d.ts') && !/^lib\/[a-z][a-z-]*\/README\.md$/.test(f))).toEqual([]);
  });

  test('installs into a throwaway cdk8s app outside the repo, which synthesizes a chart through the public API', () => {
    // GIVEN a new app that depends on the tarball and on the peer packages
    const consumer = path.join(scratch, 'consumer');
    fs.mkdirSync(consumer);
    const peers = Object.fromEntries(['cdk8s', 'cdk8s-plus-27', 'constructs'].map((p) => [p, rootPackage.devDependencies[p]]));
    fs.writeFileSync(path.join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, dependencies: { 'cdk8s-platform-stack': `file:${tarball}`, ...peers } }));
    run(NPM, ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: consumer });
    fs.writeFileSync(path.join(consumer, 'main.ts'), CONSUMER_TS);

    // WHEN it type-checks against the shipped declarations and runs
    run(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '--strict', '--target', 'es2022', '--moduleResolution', 'node16', '--module', 'node16', '--skipLibCheck', '--outDir', 'out', 'main.ts'], { cwd: consumer });
    const output = run(process.execPath, [path.join('out', 'main.js'), path.join(consumer, 'dist')], { cwd: consumer });

    // THEN its chart is synthesized and bad input raises the library's ValidationError
    expect(output.trim()).toBe('ValidationError');
    expect(fs.readdirSync(path.join(consumer, 'dist', 'team-a'))).toContain('Namespace.platform-team-a.k8s.yaml');
  }, 120_000);

  test('exposes only the public API: deep imports are refused', () => {
    const consumer = path.join(scratch, 'consumer');
    expect(() => run(process.execPath, ['-e', "require('cdk8s-platform-stack/build/lib/core/validation')"], { cwd: consumer })).toThrow(/ERR_PACKAGE_PATH_NOT_EXPORTED/);
  });
});
