// Docs that cannot rot: every ```ts block of the READMEs, compiled against an installed package's
// type declarations and run. A block may use a few names the prose gives it (`chart`,
// `prometheus`, `redis`, `deployment`, `shopA`): the context below defines each one a block uses
// and does not declare itself, found from the compiler's "Cannot find name" errors.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

/** One ```ts block of a Markdown file. */
export interface DocBlock {
  /** `README.md:117`: the file, relative to the repo, and the line of the block's first code line. */
  readonly where: string;
  readonly code: string;
}

export function tsBlocks(root: string, files: readonly string[]): DocBlock[] {
  return files.flatMap((file) => {
    const text = fs.readFileSync(path.join(root, file), 'utf8');
    return [...text.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => ({ where: `${file}:${text.slice(0, m.index).split('\n').length + 1}`, code: m[1] }));
  });
}

// What the context gives a block, each made only when the block uses it. A plain App and a
// plain Chart with a namespace: the constructs must work there.
const CONTEXT_TS = `
import * as path from 'path';
import { App, Chart, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Prometheus, Redis, restrictPod, restrictedContainerSecurityContext, restrictedPodSecurityContext } from 'cdk8s-platform-stack';

function workload(chart: Chart, id: string): kplus.Deployment {
  const deployment = new kplus.Deployment(chart, id, { securityContext: restrictedPodSecurityContext(65532), automountServiceAccountToken: false });
  deployment.addContainer({
    image: 'registry.example.com/' + id + ':1.0.0',
    ports: [{ number: 8080, name: 'http' }],
    securityContext: restrictedContainerSecurityContext(65532),
    resources: { cpu: { request: kplus.Cpu.millis(50), limit: kplus.Cpu.millis(500) }, memory: { request: Size.mebibytes(64), limit: Size.mebibytes(128) } },
  });
  restrictPod(deployment);
  return deployment;
}

export function docsContext() {
  const app = new App({ outdir: path.join(__dirname, 'dist') });
  const chart = new Chart(app, 'dev', { namespace: 'platform-dev' });
  const made = new Map<string, unknown>();
  const once = <T>(name: string, make: () => T): T => (made.has(name) ? made.get(name) : made.set(name, make()).get(name)) as T;
  return {
    app,
    chart,
    get prometheus() { return once('prometheus', () => new Prometheus(chart, 'prometheus')); },
    get redis() { return once('redis', () => new Redis(chart, 'redis')); },
    get deployment() { return once('deployment', () => workload(chart, 'api')); },
    get shopA() {
      return once('shopA', () => {
        const deployment = workload(chart, 'shop-a');
        return { deployment, service: new kplus.Service(chart, 'shop-a-service', { selector: deployment, ports: [{ port: 80, targetPort: 8080 }] }) };
      });
    },
  };
}
`;
const CONTEXT_NAMES = ['app', 'chart', 'prometheus', 'redis', 'deployment', 'shopA'];

// Runs each compiled block in one process and synthesizes every App it made (its own, or the
// context's); reports what threw. Apps are recorded through the class cdk8s's index re-exports
// live from lib/app.js, so `new App()` in a block is seen whatever it imports.
const RUNNER_JS = `
const appModule = require(require.resolve('cdk8s/lib/app', { paths: [process.cwd()] }));
const apps = [];
appModule.App = class RecordedApp extends appModule.App {
  constructor(...args) { super(...args); apps.push(this); }
};
const results = {};
for (const file of process.argv.slice(2)) {
  apps.length = 0;
  try {
    require(file);
    for (const app of apps) app.synthYaml();
    results[file] = apps.length ? 'ok' : 'made no App';
  } catch (error) {
    results[file] = String((error && error.stack) || error);
  }
}
console.log(JSON.stringify(results));
`;

const OPTIONS: ts.CompilerOptions = {
  strict: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.CommonJS,
  moduleResolution: ts.ModuleResolutionKind.Node10,
  esModuleInterop: true,
  skipLibCheck: true,
  types: ['node'],
};

function compile(files: readonly string[], outDir?: string, oldProgram?: ts.Program): ts.Program {
  // The second pass reuses the first's parsed declarations (cdk8s-plus alone is megabytes of them).
  const program = ts.createProgram({ rootNames: files, options: { ...OPTIONS, outDir, noEmit: !outDir }, oldProgram });
  if (outDir) program.emit();
  return program;
}

// "Cannot find name 'x'" (with or without a suggestion), "No value exists in scope for the shorthand property 'x'".
const CANNOT_FIND_NAME = new Set([2304, 2552, 18004]);

/**
 * Compiles every block in `dir` (an app folder whose node_modules has the package and its peers,
 * and maybe a `dashboards/` folder of its own), then runs each. Returns one problem per block that does not compile or throws, naming the README line.
 */
export function checkDocBlocks(blocks: readonly DocBlock[], dir: string): string[] {
  const docs = path.join(dir, 'docs');
  fs.rmSync(docs, { recursive: true, force: true });
  fs.mkdirSync(docs, { recursive: true });
  const file = (i: number) => path.join(docs, `block-${i}.ts`);
  blocks.forEach((block, i) => fs.writeFileSync(file(i), block.code));

  // Pass 1: which context names does each block use without declaring them?
  const blockOf = (d: ts.Diagnostic) => blocks.findIndex((_, j) => d.file !== undefined && path.resolve(d.file.fileName) === file(j));
  const missing = blocks.map(() => new Set<string>());
  const first = compile(blocks.map((_, i) => file(i)));
  for (const d of ts.getPreEmitDiagnostics(first)) {
    const i = blockOf(d);
    const name = /(?:Cannot find name|shorthand property) '([^']+)'/.exec(ts.flattenDiagnosticMessageText(d.messageText, '\n'))?.[1];
    if (i >= 0 && CANNOT_FIND_NAME.has(d.code) && name && CONTEXT_NAMES.includes(name)) missing[i].add(name);
  }

  // Pass 2: the context on the first line, so line numbers stay the README's.
  fs.writeFileSync(path.join(docs, 'context.ts'), CONTEXT_TS);
  blocks.forEach((block, i) => {
    const names = [...missing[i]];
    const prelude = `import { docsContext } from './context';${names.length ? ` const { ${names.join(', ')} } = docsContext();` : ''} `;
    fs.writeFileSync(file(i), `${prelude}${block.code}\n`);
  });
  const out = path.join(docs, 'out');
  const second = compile([...blocks.map((_, i) => file(i)), path.join(docs, 'context.ts')], out, first);
  const problems = blocks.map((): string[] => []);
  for (const d of ts.getPreEmitDiagnostics(second)) {
    const i = blockOf(d);
    if (i < 0) throw new Error(`the docs context does not compile: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`);
    const [readme, line] = blocks[i].where.split(':');
    const offset = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : 0;
    problems[i].push(`${readme}:${Number(line) + offset} does not compile: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`);
  }

  // Run the blocks that compiled, in one process, in a folder with the app's own `dashboards/`
  // (a block may name `./dashboards`, a team's own folder).
  fs.writeFileSync(path.join(docs, 'run.js'), RUNNER_JS);
  if (fs.existsSync(path.join(dir, 'dashboards'))) fs.cpSync(path.join(dir, 'dashboards'), path.join(docs, 'dashboards'), { recursive: true });
  const runnable = blocks.map((_, i) => i).filter((i) => problems[i].length === 0);
  const compiled = (i: number) => path.join(out, `block-${i}.js`);
  const results = JSON.parse(execFileSync(process.execPath, [path.join(docs, 'run.js'), ...runnable.map(compiled)], { cwd: docs, encoding: 'utf8' })) as Record<string, string>;
  for (const i of runnable) if (results[compiled(i)] !== 'ok') problems[i].push(`${blocks[i].where} fails to synthesize: ${results[compiled(i)]}`);
  return problems.flat();
}
