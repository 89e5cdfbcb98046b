// How each kind of engine in table.js is built or installed. Every step runs a real client (go,
// apt-get) and throws with its output when it fails.
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { ENGINES_DIR, ROOT, binDir, findOnPath } = require('./table');

/** The go command: on PATH, else where its installer puts it. */
function goBinary() {
  return findOnPath('go') ?? '/usr/local/go/bin/go';
}

/** Runs a command; throws with its last output lines when it exits non-zero. */
function run(command, args, options = {}) {
  try {
    return execFileSync(command === 'go' ? goBinary() : command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024, ...options });
  } catch (error) {
    const output = `${error.stdout ?? ''}${error.stderr ?? ''}`.trim().split('\n').slice(-40).join('\n');
    throw new Error(`${command} ${args.join(' ')} failed (${error.status ?? error.signal ?? error.message}):\n${output}`);
  }
}

// Static binaries, paths trimmed: the same flags every time, so Go's build cache (at its default
// place) serves every compiled package to the next build, in this clone or another one.
// Go's own install folder is on PATH too, for shells (CI) that lack it.
const GO_ENV = { ...process.env, CGO_ENABLED: '0', PATH: `${process.env.PATH ?? ''}:/usr/local/go/bin` };

function goFlags(engine) {
  // -buildvcs=false: the wrapper modules sit inside this repository's work tree; its git state is
  // not the engine's version (and a machine without this machine's go env file would stamp it).
  const flags = ['-trimpath', '-buildvcs=false', '-ldflags', ['-s', '-w', ...(engine.ldflags ?? [])].join(' ')];
  if (engine.tags?.length) flags.push('-tags', engine.tags.join(','));
  return flags;
}

/** `go build -o`: the binary's path for one binary, else the folder (a trailing slash), where go names each. */
function buildOutput(engine, outDir) {
  return engine.binaries.length === 1 ? path.join(outDir, engine.binaries[0]) : `${outDir}/`;
}

/** An engine's package paths: `packages` under its module ('' is the module's root package). */
function packagePaths(engine) {
  return engine.packages.map((p) => (p ? `${engine.module}/${p}` : engine.module));
}

/**
 * The environment that fetches the engine's module: for `pinnedSums`, without the checksum
 * database for that module (it does not answer for the version), the pinned hashes checked instead.
 */
function fetchEnv(engine) {
  return engine.pinnedSums ? { ...GO_ENV, GONOSUMDB: engine.module } : GO_ENV;
}

/** The folder of the engine's module version in Go's module cache, downloaded if missing; checks its `pinnedSums`. */
function moduleDir(engine) {
  const { module, version } = engine;
  const info = JSON.parse(run('go', ['mod', 'download', '-json', `${module}@${version}`], { env: fetchEnv(engine) }));
  if (info.Error) throw new Error(`go mod download ${module}@${version}: ${info.Error}`);
  for (const [field, want] of Object.entries(engine.pinnedSums ?? {})) {
    if (info[field] !== want) throw new Error(`${module}@${version}: ${field} is ${info[field]}, scripts/engines/table.js pins ${want}`);
  }
  return info.Dir;
}

/** An empty folder for the engine's build module or module copy, under .engines/src. */
function freshSourceDir(engine) {
  const dir = path.join(ENGINES_DIR, 'src', `${engine.name}@${engine.version}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  return dir;
}

/**
 * k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces them with folders of its
 * repository; a wrapper replaces each with the published v0.<minor>.<patch>. The list comes from
 * the tagged go.mod (every k8s.io/* required at v0.0.0), not typed by hand; so does `godebug`.
 */
function kubernetesStaging(goMod, version) {
  const published = `v0.${version.split('.').slice(1).join('.')}`;
  const staging = [...goMod.matchAll(/^\s*(k8s\.io\/[\w.-]+) v0\.0\.0$/gm)].map((m) => m[1]);
  return Object.fromEntries([...new Set(staging)].sort().map((m) => [m, published]));
}

/** Builds `engine` as a dependency of a module of our own (for modules with replace lines). */
function goWrapper(engine, outDir) {
  const upstream = fs.readFileSync(path.join(moduleDir(engine), 'go.mod'), 'utf8');
  const replaces = engine.replaces === 'kubernetes-staging' ? kubernetesStaging(upstream, engine.version) : engine.replaces;
  const goLine = upstream.match(/^go .+$/m)[0];
  const godebug = upstream.match(/^godebug .+$/m)?.[0];
  const dir = freshSourceDir(engine);
  fs.mkdirSync(dir);
  const goMod = [
    `module engines.local/${engine.name}`,
    '',
    goLine,
    ...(godebug ? ['', godebug] : []),
    '',
    `require ${engine.module} ${engine.version}`,
    '',
    'replace (',
    ...Object.entries(replaces).map(([module, version]) => `\t${module} => ${module} ${version}`),
    ')',
    '',
  ].join('\n');
  fs.writeFileSync(path.join(dir, 'go.mod'), goMod);
  const packages = packagePaths(engine);
  run('go', ['get', ...packages.map((p) => `${p}@${engine.version}`)], { cwd: dir, env: GO_ENV });
  run('go', ['build', ...goFlags(engine), '-o', buildOutput(engine, outDir), ...packages], { cwd: dir, env: GO_ENV });
}

/** `go install package@version` into the engine's folder. */
function goInstall(engine, outDir) {
  const version = engine.moduleVersion ?? engine.version;
  const packages = packagePaths(engine).map((p) => `${p}@${version}`);
  run('go', ['install', ...goFlags(engine), ...packages], { env: { ...GO_ENV, GOBIN: outDir } });
}

/** `go build` in a writable copy of the module (the cache's copy is read-only), placeholders added. */
function goCopy(engine, outDir) {
  const dir = freshSourceDir(engine);
  fs.cpSync(moduleDir(engine), dir, { recursive: true });
  // The module cache's folders are read-only, and so are their copies.
  fs.chmodSync(dir, 0o755);
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isDirectory()) fs.chmodSync(path.join(entry.parentPath ?? entry.path, entry.name), 0o755);
  }
  for (const [file, content] of Object.entries(engine.placeholders ?? {})) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), content);
  }
  run('go', ['build', ...goFlags(engine), '-o', buildOutput(engine, outDir), ...engine.packages.map((p) => `./${p}`)], { cwd: dir, env: fetchEnv(engine) });
}

/** `go build` of a module of this repository into the engine's folder. */
function goLocal(engine, outDir) {
  run('go', ['build', ...goFlags(engine), '-o', path.join(outDir, engine.binaries[0]), '.'], { cwd: path.join(ROOT, engine.dir), env: GO_ENV });
}

/** Is every binary of the engine in place? */
function isInstalled(engine) {
  if (engine.kind === 'apt') return engine.binaries.every((b) => findOnPath(b));
  return engine.binaries.every((b) => fs.existsSync(path.join(binDir(engine), b)));
}

let aptUpdated = false;

/** Builds or installs one engine. Go binaries are built into a staging folder, then moved in whole. */
function install(engine) {
  if (engine.kind === 'apt') {
    if (!aptUpdated) run('apt-get', ['update', '-qq']);
    aptUpdated = true;
    run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', engine.package], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    return;
  }
  const target = binDir(engine);
  const staging = `${target}.partial`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(staging, { recursive: true });
  if (engine.kind === 'go-wrapper') goWrapper(engine, staging);
  else if (engine.kind === 'go-install') goInstall(engine, staging);
  else if (engine.kind === 'go-copy') goCopy(engine, staging);
  else if (engine.kind === 'go-local') goLocal(engine, staging);
  else throw new Error(`unknown kind ${engine.kind}`);
  for (const binary of engine.binaries) if (!fs.existsSync(path.join(staging, binary))) throw new Error(`the build made no ${binary}`);
  fs.rmSync(target, { recursive: true, force: true });
  fs.renameSync(staging, target);
}

module.exports = { install, isInstalled, kubernetesStaging };
