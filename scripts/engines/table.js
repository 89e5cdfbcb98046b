// The engines the tests drive, pinned: one entry per engine. `npm run engines` builds or installs
// each one missing; the tests find its binaries with `enginePath`.
//
// Go engines are built from the Go module proxy into .engines/bin/<name>@<version>/ (gitignored).
// Go's own build and module caches (at Go's defaults) keep the compiled packages, so a fresh clone
// on the same machine only links. Debian engines are installed with apt-get.
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..', '..');
const ENGINES_DIR = path.join(ROOT, '.engines');

const KUBERNETES = 'v1.36.3';
const PROMETHEUS = '3.16.0';
// The other Prometheus projects' versions, each also stamped by its ldflags (their Makefiles differ
// in whether the stamp keeps the v).
const ALERTMANAGER = '0.35.0';
const REDIS_EXPORTER = 'v1.62.0';
const NGINX_EXPORTER = '1.5.1';
const NODE_EXPORTER = '1.12.1';
const KUBE_STATE_METRICS = 'v2.16.0';

/** The version of a Go module of this repository: a hash of its go.mod, go.sum and .go files. */
function sourceVersion(dir) {
  const hash = crypto.createHash('sha256');
  for (const name of fs.readdirSync(path.join(ROOT, dir)).filter((f) => /^go\.(mod|sum)$|\.go$/.test(f)).sort()) {
    hash.update(`${name}\0`).update(fs.readFileSync(path.join(ROOT, dir, name)));
  }
  return `src-${hash.digest('hex').slice(0, 16)}`;
}

/** Version flags the upstream builds set (hack/lib/version.sh), so `--version` tells the truth. */
function kubernetesVersionFlags(version) {
  const [major, minor] = version.slice(1).split('.');
  return ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version'].flatMap((pkg) => [
    `-X ${pkg}.gitVersion=${version}`,
    `-X ${pkg}.gitMajor=${major}`,
    `-X ${pkg}.gitMinor=${minor}`,
    `-X ${pkg}.gitTreeState=clean`,
    `-X ${pkg}.buildDate=1970-01-01T00:00:00Z`,
  ]);
}

/** Version flags of the Prometheus projects' builds (.promu.yml), so `--version` tells the truth. */
function promVersionFlags(version) {
  return [`-X github.com/prometheus/common/version.Version=${version}`, '-X github.com/prometheus/common/version.Branch=HEAD'];
}

const UI_PLACEHOLDER = '<!doctype html><title>Alertmanager</title><p>The web UI is not built here (scripts/engines/table.js): use the API, /api/v2.</p>\n';

/**
 * kind 'go-install': `go install package@version` (the module has no replace/exclude lines).
 * kind 'go-copy': `go build` in a writable copy of the module from Go's module cache, built with
 *   the module's own go.sum as `go install` does, and with `placeholders` (path: content) added
 *   first for modules that embed files they do not hold. For modules whose version list the proxy
 *   refuses (403): `go install` asks for it (deprecation check) and fails; a build does not.
 * `pinnedSums` (go-copy; Sum and GoModSum as `go mod download -json` prints them): for
 *   a version the checksum database (sum.golang.org) has no record of here (404), the hashes of
 *   its first download, checked on every download instead.
 * kind 'go-wrapper': built as a dependency of a small module of our own, because the module has
 *   replace lines that `go install` refuses; `replaces` maps each replaced module to a version.
 * kind 'go-local': a Go module of this repository (`dir`), built with `go build`; its version is
 *   a hash of its sources, so an edit builds it again.
 * kind 'apt': a Debian package; `binaries` are looked up on PATH and in the sbin folders.
 */
const ENGINES = [
  {
    name: 'kubernetes',
    version: KUBERNETES,
    kind: 'go-wrapper',
    module: 'k8s.io/kubernetes',
    packages: ['cmd/kube-apiserver', 'cmd/kube-controller-manager', 'cmd/kubectl'],
    binaries: ['kube-apiserver', 'kube-controller-manager', 'kubectl'],
    // Its staging modules (k8s.io/api, ...) are required at v0.0.0 and replaced by folders that
    // are not in the module: each one is replaced by its published v0.<minor>.<patch>.
    replaces: 'kubernetes-staging',
    ldflags: kubernetesVersionFlags(KUBERNETES),
  },
  {
    // Kubernetes 1.36.3 is tested with etcd 3.6.8 (build/dependencies.yaml): the newest 3.6 patch.
    name: 'etcd',
    version: 'v3.6.16',
    kind: 'go-wrapper',
    module: 'go.etcd.io/etcd/server/v3',
    packages: [''],
    binaries: ['etcd'],
    replaces: Object.fromEntries(['api/v3', 'client/pkg/v3', 'client/v3', 'pkg/v3'].map((m) => [`go.etcd.io/etcd/${m}`, 'v3.6.16'])),
  },
  {
    // Module v0.3xx.y is Prometheus 3.xx.y; Kubernetes discovery is compiled in by default. No
    // `builtinassets` tag: the web UI's assets are not in the module, the API works without them.
    name: 'prometheus',
    version: `v${PROMETHEUS}`,
    kind: 'go-install',
    module: 'github.com/prometheus/prometheus',
    moduleVersion: `v0.${300 + Number(PROMETHEUS.split('.')[1])}.${PROMETHEUS.split('.')[2]}`,
    packages: ['cmd/prometheus', 'cmd/promtool'],
    binaries: ['prometheus', 'promtool'],
    tags: ['netgo'],
    ldflags: promVersionFlags(PROMETHEUS),
  },
  {
    // amtool checks the synthesized alertmanager.yml; the server runs it in the live tests. The
    // server embeds its web UI from ui/app/dist, which their Makefile builds with npm and elm and
    // the module does not hold: it is built in a copy of the module with a placeholder page there
    // (`placeholders`). The API and the notification path are the real thing; only the UI is
    // missing, as in the Prometheus entry (no `builtinassets`).
    name: 'alertmanager',
    version: `v${ALERTMANAGER}`,
    kind: 'go-copy',
    module: 'github.com/prometheus/alertmanager',
    packages: ['cmd/alertmanager', 'cmd/amtool'],
    binaries: ['alertmanager', 'amtool'],
    placeholders: Object.fromEntries(['elm', 'mantine'].map((ui) => [`ui/app/dist/${ui}/index.html`, UI_PLACEHOLDER])),
    ldflags: promVersionFlags(ALERTMANAGER),
  },
  {
    // The image's version (lib/redis/redis.ts REDIS_EXPORTER_IMAGE); ldflags as its Makefile sets them.
    name: 'redis_exporter',
    version: REDIS_EXPORTER,
    kind: 'go-copy',
    module: 'github.com/oliver006/redis_exporter',
    packages: [''],
    binaries: ['redis_exporter'],
    ldflags: [`-X main.BuildVersion=${REDIS_EXPORTER}`, '-X main.BuildCommitSha=620cb9964b0d7d7033fe5f9858e0952b7269de4d', '-X main.BuildDate=1970-01-01T00:00:00Z'],
    pinnedSums: { Sum: 'h1:7T0Fh8fJeYxf9gWa5gI6IliOSOWY9F5WlJCQMjZcjVE=', GoModSum: 'h1:a13ST3kely3DoWB7ffNkZX0x+LAQFxiK91+yclXlR9U=' },
  },
  {
    // The image's version (lib/nginx/nginx.ts NGINX_EXPORTER_IMAGE).
    name: 'nginx-prometheus-exporter',
    version: `v${NGINX_EXPORTER}`,
    kind: 'go-copy',
    module: 'github.com/nginx/nginx-prometheus-exporter',
    packages: [''],
    binaries: ['nginx-prometheus-exporter'],
    ldflags: promVersionFlags(NGINX_EXPORTER),
  },
  {
    // The image's version (the NodeExporter construct's quay.io/prometheus/node-exporter:v1.12.1).
    name: 'node_exporter',
    version: `v${NODE_EXPORTER}`,
    kind: 'go-install',
    module: 'github.com/prometheus/node_exporter',
    packages: [''],
    binaries: ['node_exporter'],
    ldflags: promVersionFlags(NODE_EXPORTER),
  },
  {
    // The image's version (lib/kube-state-metrics KUBE_STATE_METRICS_IMAGE): the image stays at the
    // newest version the module proxy serves (it refuses v2.17.0 and v2.17.1: 403), so what the
    // tests run is what is shipped. Not in the checksum database here (404): its hashes are
    // pinned. ldflags as its Makefile sets them.
    name: 'kube-state-metrics',
    version: KUBE_STATE_METRICS,
    kind: 'go-copy',
    module: 'k8s.io/kube-state-metrics/v2',
    packages: [''],
    binaries: ['kube-state-metrics'],
    ldflags: promVersionFlags(KUBE_STATE_METRICS),
    pinnedSums: { Sum: 'h1:9odhnjtWSngkq/6Maw9m0Fi9dH8DM4M/lQw/XCspAqk=', GoModSum: 'h1:w/LL+bRDjYoHC1KoUr2bhjjBdKIAdVv1Ieduwuj6/H8=' },
  },
  {
    name: 'kube-score',
    version: 'v1.20.0',
    kind: 'go-install',
    module: 'github.com/zegl/kube-score',
    packages: ['cmd/kube-score'],
    binaries: ['kube-score'],
    ldflags: ['-X main.version=1.20.0'],
  },
  {
    name: 'kubeconform',
    version: 'v0.8.0',
    kind: 'go-install',
    module: 'github.com/yannh/kubeconform',
    packages: ['cmd/kubeconform'],
    binaries: ['kubeconform'],
    ldflags: ['-X main.version=v0.8.0'],
  },
  // Polaris (github.com/FairwindsOps/polaris) is not served by the Go module proxy here: its
  // danger checks stay in test/policy/checks.ts.
  {
    // The power-loss disk of test/redis-engine.test.ts: a FUSE filesystem on go-fuse (test/redis/powerloss.ts).
    name: 'powerlossfs',
    version: sourceVersion('test/redis/powerloss'),
    kind: 'go-local',
    dir: 'test/redis/powerloss',
    binaries: ['powerlossfs'],
  },
  {
    // The example Go service (examples/go-service) that monitorGoService scrapes: client_golang
    // metrics on its public port, net/http/pprof on a loopback-only one.
    name: 'go-service',
    version: sourceVersion('examples/go-service'),
    kind: 'go-local',
    dir: 'examples/go-service',
    binaries: ['go-service'],
  },
  { name: 'nginx', version: 'debian', kind: 'apt', package: 'nginx-light', binaries: ['nginx'] },
  { name: 'redis', version: 'debian', kind: 'apt', package: 'redis-server', binaries: ['redis-server'] },
  { name: 'wrk', version: 'debian', kind: 'apt', package: 'wrk', binaries: ['wrk'] },
  { name: 'openssl', version: 'debian', kind: 'apt', package: 'openssl', binaries: ['openssl'] },
];

const APT_FOLDERS = ['/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** A Debian engine's binary on PATH or in the system folders, or undefined. */
function findOnPath(binary) {
  const folders = (process.env.PATH ?? '').split(':').filter(Boolean).concat(APT_FOLDERS);
  return folders.map((dir) => path.join(dir, binary)).find((file) => fs.existsSync(file));
}

/** Where a Go engine's binaries live: keyed by engine and version. */
function binDir(engine) {
  return path.join(ENGINES_DIR, 'bin', `${engine.name}@${engine.version}`);
}

/** The absolute path of `binary` as `npm run engines` put it there (it may not exist yet). */
function enginePath(binary) {
  const engine = ENGINES.find((e) => e.binaries.includes(binary));
  if (!engine) throw new Error(`no engine in scripts/engines/table.js has a binary named ${binary}`);
  if (engine.kind !== 'apt') return path.join(binDir(engine), binary);
  return findOnPath(binary) ?? path.join('/usr/bin', binary);
}

module.exports = { ENGINES, ENGINES_DIR, binDir, enginePath, findOnPath, ROOT };
