import { Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { addMonitoring, shippedDashboard } from '../core/monitoring';
import { nginxRuleGroup } from './rules';
import { registerConstruct } from '../core/construct';
import { imageVersion } from '../core/image';
import { recommendedLabels } from '../core/labels';
import { constructName, instanceName } from '../core/names';
import { allowConnection, allowEgress, allowIngressFromAnywhere, everyAddress, ownerName } from '../core/network';
import { applyCommonProps, bytesOf, chartNamespace, checkCommonProps, checkResources, CommonProps, cpuAndMemory, resolveResources, ServiceExposure, setEphemeralStorage, SIDECAR_EPHEMERAL_STORAGE } from '../core/props';
import { rollOnChange } from '../core/rollout';
import { markForScraping } from '../core/scraping';
import { restrictPod, restrictedContainerSecurityContext, restrictedPodSecurityContext } from '../core/security';
import { PropValidator } from '../core/validation';
import { disruptionBudget } from '../core/disruption';
import { IRouterEndpoint } from '../router/router';
import { COOKIE_NAME, HEADER_NAME, RequestInput } from '../router/service/rules';
import { ROUTER_REQUEST_HEADERS, RoutingConfModel, renderRoutingConf } from './routing-conf';

/** The pods behind a backend, for NetworkPolicies: NGINX may connect to them on `port`. */
export interface BackendPods {
  /** The pods (a workload, or any NetworkPolicy peer). */
  readonly peer: kplus.INetworkPolicyPeer;
  /** The pods' port (the Service's targetPort). */
  readonly port: number;
}

/** A backend NGINX may proxy to: one entry of the allowlist. */
export interface IBackend {
  /** The name the router answers with (a DNS label). */
  readonly name: string;
  /** In-cluster host name of its Service. */
  readonly host: string;
  /** Service port. */
  readonly port: number;
  /**
   * The pods behind it, so NGINX's egress policy names them (and a workload's ingress policy names NGINX).
   * @default - NGINX may connect to any address on `port`
   */
  readonly pods?: BackendPods;
}

/** Resources of the NGINX container, each part overridable by `resources`. */
export const NGINX_DEFAULT_RESOURCES = {
  cpu: { request: kplus.Cpu.millis(100), limit: kplus.Cpu.units(1) },
  memory: { request: Size.mebibytes(64), limit: Size.mebibytes(256) },
  // Logs and /tmp (an emptyDir of at most 64Mi); the cache is memory-backed and counts as memory.
  ephemeralStorage: { request: Size.mebibytes(64), limit: Size.mebibytes(256) },
} as const;

/** Ways to declare a backend. */
export class Backend {
  /**
   * A Service of this app: its first port unless `port` is given (it must be one of the Service's).
   * With the `workload` behind it, the NetworkPolicies allow exactly NGINX to that workload on the
   * Service's target port.
   */
  static fromService(name: string, service: kplus.Service, options: { readonly port?: number; readonly workload?: kplus.Workload } = {}): IBackend {
    const servicePort = service.ports.find((p) => options.port === undefined || p.port === options.port);
    const v = new PropValidator(service, 'Backend.fromService');
    v.check(servicePort !== undefined, `port (backend '${name}')`, options.port ?? null, service.ports.length > 0 ? `one of the Service's ports (${service.ports.map((p) => p.port).join('|')})` : 'a port of the Service (it has none yet: add its ports first)');
    v.throwIfInvalid();
    const namespace = service.metadata.namespace ?? chartNamespace(service, 'Backend.fromService', 'the backend host name');
    const port = servicePort!.port;
    const pods = options.workload ? { peer: options.workload, port: servicePort!.targetPort ?? port } : undefined;
    return { name, host: `${service.name}.${namespace}.svc`, port, pods };
  }

  /** A Service elsewhere (another team's namespace), by its in-cluster host name. */
  static fromHost(name: string, host: string, port: number, pods?: BackendPods): IBackend {
    return { name, host, port, pods };
  }
}

/** A path proxied straight to a backend, without asking the router. */
export interface DirectRoute {
  /** Path prefix, e.g. `/static/`. */
  readonly pathPrefix: string;
  /** Name of one of the backends. */
  readonly backend: string;
}

export interface NginxProps extends CommonProps {
  /** The router NGINX asks, per request, which backend to use. */
  readonly router: IRouterEndpoint;
  /** The allowlist: the only places a request can be proxied to. */
  readonly backends: readonly IBackend[];
  /**
   * Paths that skip the router and go straight to a backend.
   * @default []
   */
  readonly directRoutes?: readonly DirectRoute[];
  /**
   * Router connect and read timeout (whole milliseconds, 10ms to 60s): a slower router gets the client a 504.
   * @default Duration.millis(500)
   */
  readonly routerTimeout?: Duration;
  /**
   * Cache router decisions this long (whole seconds, up to 5 minutes), keyed by method, host, URI
   * and the headers and cookies the rules read. A change at run time then takes up to this long (plus
   * under a second: nginx counts whole seconds) to apply; `Duration.seconds(0)` turns the cache off,
   * so every request asks the router.
   * @default NGINX_DEFAULT_DECISION_CACHE_TTL (1 s)
   */
  readonly decisionCacheTtl?: Duration;
  /**
   * Backend connect timeout (whole milliseconds, 10ms to 60s).
   * @default Duration.seconds(2)
   */
  readonly backendConnectTimeout?: Duration;
  /**
   * Backend read and send timeout (whole seconds, 1s to 1h).
   * @default Duration.seconds(60)
   */
  readonly backendTimeout?: Duration;
  /**
   * Idle keepalive connections each worker keeps to the router and to each backend.
   * @default 32
   */
  readonly keepaliveConnections?: number;
  /**
   * nginx worker processes (match the CPU limit).
   * @default 2
   */
  readonly workerProcesses?: number;
  /**
   * Connections per worker (clients and upstreams together).
   * @default 4096
   */
  readonly workerConnections?: number;
  /**
   * Largest request body.
   * @default Size.mebibytes(10)
   */
  readonly clientMaxBodySize?: Size;
  /**
   * Log every request to stdout (with the decision, the router status and the cache status).
   * @default true
   */
  readonly accessLog?: boolean;
  /**
   * NGINX pods; two or more get a PodDisruptionBudget.
   * @default 1
   */
  readonly replicas?: number;
  /**
   * How the Service is exposed.
   * @default ServiceExposure.clusterIp() - behind an existing ingress
   */
  readonly expose?: ServiceExposure;
  /**
   * Service port.
   * @default 80
   */
  readonly port?: number;
  /**
   * Unprivileged NGINX image (uid 101, writes only where emptyDirs are mounted).
   * @default NGINX_IMAGE
   */
  readonly image?: string;
  /**
   * nginx-prometheus-exporter image.
   * @default NGINX_EXPORTER_IMAGE
   */
  readonly exporterImage?: string;
  /**
   * NGINX container resources.
   * @default 100m/64Mi requested, 1 CPU/256Mi limit
   */
  readonly resources?: kplus.ContainerResources;
}

export const NGINX_IMAGE = 'nginxinc/nginx-unprivileged:1.28.0-alpine';
export const NGINX_EXPORTER_IMAGE = 'nginx/nginx-prometheus-exporter:1.5.1';
const NGINX_USER = 101;
const EXPORTER_USER = 65534;
const CONFIG_DIR = '/etc/nginx/platform';
const HTTP_PORT = 8080;
const HEALTH_PORT = 8081;
const STATUS_PORT = 8082;
const EXPORTER_PORT = 9113;
const PATH_PREFIX = /^\/[A-Za-z0-9\-._~/%]*$/;
// Names that mean something else as a `map` key.
const RESERVED_NAMES = ['default', 'hostnames', 'include', 'volatile'];

/**
 * The decision cache's default TTL: a hot path pays one router round trip a second per key (the
 * dynamic route then costs about what a direct proxy_pass does), and a change applies within 2 s.
 */
export const NGINX_DEFAULT_DECISION_CACHE_TTL = Duration.seconds(1);

/**
 * NGINX in front of a dynamic router: each request asks the router (auth_request) which backend
 * to use, and is proxied there only if the answer is in the allowlist. Fails closed with
 * documented statuses (see lib/nginx/README.md).
 */
export class Nginx extends Construct {
  /** The Service clients use. */
  public readonly service: kplus.Service;
  /** The NGINX Deployment (construct id `Resource`). */
  public readonly deployment: kplus.Deployment;
  /** Service port clients use. */
  public readonly port: number;
  /** The typed model the ConfigMap's nginx.conf is rendered from. */
  public readonly confModel: RoutingConfModel;
  /** nginx.conf as the ConfigMap holds it. */
  public readonly conf: string;

  constructor(scope: Construct, id: string, props: NginxProps) {
    super(scope, id);
    registerConstruct(this);
    const v = new PropValidator(this, 'Nginx');
    checkCommonProps(v, props);
    checkResources(v, 'resources', resolveResources(props.resources, NGINX_DEFAULT_RESOURCES), props.resources);
    const backends = props.backends;
    const directRoutes = props.directRoutes ?? [];
    const routerTimeoutMs = (props.routerTimeout ?? Duration.millis(500)).toMilliseconds({ integral: false });
    const decisionCacheTtlSeconds = (props.decisionCacheTtl ?? NGINX_DEFAULT_DECISION_CACHE_TTL).toSeconds({ integral: false });
    const backendConnectTimeoutMs = (props.backendConnectTimeout ?? Duration.seconds(2)).toMilliseconds({ integral: false });
    const backendTimeoutSeconds = (props.backendTimeout ?? Duration.seconds(60)).toSeconds({ integral: false });
    const keepaliveConnections = props.keepaliveConnections ?? 32;
    const workerProcesses = props.workerProcesses ?? 2;
    const workerConnections = props.workerConnections ?? 4096;
    const clientMaxBodyBytes = bytesOf(props.clientMaxBodySize ?? Size.mebibytes(10));
    const answerHeader = props.router.answerHeader ?? 'X-Route-Target';
    const replicas = props.replicas ?? 1;
    const expose = props.expose ?? ServiceExposure.clusterIp();
    this.port = props.port ?? 80;

    v.nonEmpty('backends', backends);
    backends.forEach((b, i) => {
      if (v.dnsLabel(`backends[${i}].name`, b.name)) v.check(!RESERVED_NAMES.includes(b.name), `backends[${i}].name`, b.name, `not one of ${RESERVED_NAMES.join('|')}`);
      v.check(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(b.host) && b.host.length <= 253, `backends[${i}].host`, b.host, 'a DNS name');
      v.port(`backends[${i}].port`, b.port);
    });
    v.unique('backends[].name', backends.map((b) => b.name));
    v.check(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(props.router.host), 'router.host', props.router.host, 'a DNS name');
    v.port('router.port', props.router.port);
    const names = backends.map((b) => b.name);
    for (const target of props.router.targets ?? []) {
      v.check(names.includes(target), 'router.targets', target, `a backend name (${names.join('|')}): the router can answer it, NGINX would refuse it`);
    }
    directRoutes.forEach((r, i) => {
      v.check(PATH_PREFIX.test(r.pathPrefix), `directRoutes[${i}].pathPrefix`, r.pathPrefix, "a path starting with '/'");
      v.check(names.includes(r.backend), `directRoutes[${i}].backend`, r.backend, `a backend name (${names.join('|')})`);
    });
    v.unique('directRoutes[].pathPrefix', directRoutes.map((r) => r.pathPrefix));
    v.check(Number.isInteger(routerTimeoutMs) && routerTimeoutMs >= 10 && routerTimeoutMs <= 60_000, 'routerTimeout', `${routerTimeoutMs}ms`, 'whole milliseconds from 10ms to 60s');
    v.check(Number.isInteger(decisionCacheTtlSeconds) && decisionCacheTtlSeconds >= 0 && decisionCacheTtlSeconds <= 300, 'decisionCacheTtl', `${decisionCacheTtlSeconds}s`, 'whole seconds from 0 to 300s (5 minutes)');
    v.check(Number.isInteger(backendConnectTimeoutMs) && backendConnectTimeoutMs >= 10 && backendConnectTimeoutMs <= 60_000, 'backendConnectTimeout', `${backendConnectTimeoutMs}ms`, 'whole milliseconds from 10ms to 60s');
    v.check(Number.isInteger(backendTimeoutSeconds) && backendTimeoutSeconds >= 1 && backendTimeoutSeconds <= 3600, 'backendTimeout', `${backendTimeoutSeconds}s`, 'whole seconds from 1s to 1h');
    v.integer('keepaliveConnections', keepaliveConnections, 1, 1024);
    v.integer('workerProcesses', workerProcesses, 1, 64);
    v.integer('workerConnections', workerConnections, 64, 65536);
    v.check(clientMaxBodyBytes >= 0 && clientMaxBodyBytes % 1024 === 0, 'clientMaxBodySize', props.clientMaxBodySize?.asString(), 'whole kibibytes (0 lifts the limit)');
    v.check(/^[A-Za-z][A-Za-z0-9-]{0,62}$/.test(answerHeader), 'router.answerHeader', answerHeader, 'an HTTP header name');
    const decisionInputs: readonly RequestInput[] = props.router.decisionInputs ?? [];
    // nginx sends the router these inputs and nothing else of the request, and sets the others itself.
    const setByNginx = [...ROUTER_REQUEST_HEADERS, answerHeader];
    decisionInputs.forEach((input, i) => {
      const prop = `router.decisionInputs[${i}]`;
      if ('header' in input) v.check(HEADER_NAME.test(input.header) && !setByNginx.some((h) => h.toLowerCase() === input.header.toLowerCase()), `${prop}.header`, input.header, `a header name (letters, digits, '-'), not one nginx sets on the router request (${setByNginx.join(', ')})`);
      else v.check(COOKIE_NAME.test(input.cookie), `${prop}.cookie`, input.cookie, "a cookie name (letters, digits, '_', '.', '-')");
    });
    v.integer('replicas', replicas, 1, 100);
    v.port('port', this.port);
    for (const [prop, image] of [['image', props.image], ['exporterImage', props.exporterImage]] as const) {
      if (image !== undefined) v.pinnedImage(prop, image);
    }
    v.throwIfInvalid();

    this.confModel = {
      listen: String(HTTP_PORT),
      healthListen: String(HEALTH_PORT),
      statusListen: `127.0.0.1:${STATUS_PORT}`,
      router: `${props.router.host}:${props.router.port}`,
      backends: backends.map((b) => ({ name: b.name, address: `${b.host}:${b.port}` })),
      directRoutes: directRoutes.map((r) => ({ pathPrefix: r.pathPrefix, backend: r.backend })),
      answerHeader,
      routerTimeoutMs,
      backendConnectTimeoutMs,
      backendTimeoutSeconds,
      keepaliveConnections,
      workerProcesses,
      workerConnections,
      clientMaxBodySize: nginxSize(clientMaxBodyBytes),
      decisionInputs,
      decisionCacheTtlSeconds,
      paths: { pidFile: '/tmp/nginx.pid', tempDir: '/tmp', cacheDir: '/var/cache/nginx/route' },
      accessLog: props.accessLog === false ? 'off' : '/dev/stdout',
      errorLog: '/dev/stderr',
    };
    this.conf = renderRoutingConf(this.confModel);

    const labels = recommendedLabels({ name: 'nginx', instance: instanceName(this), component: 'gateway', version: imageVersion(props.image ?? NGINX_IMAGE) });
    const configMap = new kplus.ConfigMap(this, 'config', { metadata: { labels } });
    configMap.addData('nginx.conf', this.conf);

    this.deployment = new kplus.Deployment(this, 'Resource', {
      metadata: { labels },
      podMetadata: { labels },
      replicas,
      securityContext: restrictedPodSecurityContext(NGINX_USER),
      automountServiceAccountToken: false,
    });
    const resources = resolveResources(props.resources, NGINX_DEFAULT_RESOURCES);
    const nginx = this.deployment.addContainer({
      name: 'nginx',
      image: props.image ?? NGINX_IMAGE,
      imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
      // Our nginx.conf, not the image's: its entrypoint scripts would edit files on a read-only root.
      command: ['nginx', '-c', `${CONFIG_DIR}/nginx.conf`, '-g', 'daemon off;'],
      ports: [{ number: HTTP_PORT, name: 'http' }, { number: HEALTH_PORT, name: 'health' }],
      securityContext: restrictedContainerSecurityContext(NGINX_USER),
      resources: cpuAndMemory(resources),
      // Ready: the config loaded and a worker answers. Alive: the listener accepts (more patient).
      readiness: kplus.Probe.fromHttpGet('/healthz', { port: HEALTH_PORT, periodSeconds: Duration.seconds(5), failureThreshold: 2 }),
      liveness: kplus.Probe.fromTcpSocket({ port: HTTP_PORT, periodSeconds: Duration.seconds(10), failureThreshold: 3, initialDelaySeconds: Duration.seconds(5) }),
    });
    setEphemeralStorage(this.deployment, nginx, resources.ephemeralStorage);
    nginx.mount(CONFIG_DIR, kplus.Volume.fromConfigMap(this, 'config-volume', configMap), { readOnly: true });
    // The only writable paths: pid and temp files, and the decision cache.
    nginx.mount('/tmp', kplus.Volume.fromEmptyDir(this, 'tmp', 'tmp', { sizeLimit: Size.mebibytes(64) }));
    // Memory-backed: a hit reads a tiny file per request (counts against the memory limit).
    nginx.mount('/var/cache/nginx', kplus.Volume.fromEmptyDir(this, 'cache', 'cache', { medium: kplus.EmptyDirMedium.MEMORY, sizeLimit: Size.mebibytes(32) }));

    const exporter = this.deployment.addContainer({
      name: 'exporter',
      image: props.exporterImage ?? NGINX_EXPORTER_IMAGE,
      imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
      args: [`--nginx.scrape-uri=http://127.0.0.1:${STATUS_PORT}/stub_status`, `--web.listen-address=:${EXPORTER_PORT}`],
      ports: [{ number: EXPORTER_PORT, name: 'metrics' }],
      securityContext: restrictedContainerSecurityContext(EXPORTER_USER),
      resources: { cpu: { request: kplus.Cpu.millis(10), limit: kplus.Cpu.millis(100) }, memory: { request: Size.mebibytes(16), limit: Size.mebibytes(64) } },
      readiness: kplus.Probe.fromHttpGet('/metrics', { port: EXPORTER_PORT, periodSeconds: Duration.seconds(10) }),
      liveness: kplus.Probe.fromTcpSocket({ port: EXPORTER_PORT, periodSeconds: Duration.seconds(20), failureThreshold: 3 }),
    });
    setEphemeralStorage(this.deployment, exporter, SIDECAR_EPHEMERAL_STORAGE);
    restrictPod(this.deployment);
    markForScraping(this.deployment, { port: EXPORTER_PORT, path: '/metrics' });
    rollOnChange(this.deployment, 'nginx-conf', this.conf);

    this.service = new kplus.Service(this, 'service', {
      metadata: { name: constructName(this), labels },
      selector: this.deployment,
      type: expose.type,
      ports: [{ port: this.port, targetPort: HTTP_PORT, name: 'http', nodePort: expose.nodePort }],
    });
    if (replicas > 1) disruptionBudget(this, 'pdb', this.deployment, { labels });
    this.allowTraffic(props.router, backends);
    // Its alert, and the dashboard of the requests and of the router decisions they wait on.
    addMonitoring(this, { ruleGroups: [nginxRuleGroup()], dashboards: [shippedDashboard('platform/nginx-router.json')] });
    applyCommonProps(this, props);
  }

  /** NetworkPolicies: clients in, NGINX out to the router and to each backend, nothing else. */
  private allowTraffic(router: IRouterEndpoint, backends: readonly IBackend[]): void {
    allowIngressFromAnywhere(this.deployment, [HTTP_PORT]);
    connect(this.deployment, this.node.id, 'router', router.workload, [router.port]);
    // One policy pair per workload behind backends (several backends may share one), else one per backend.
    const byWorkload = new Map<kplus.Workload, number[]>();
    for (const backend of backends) {
      const peer = backend.pods?.peer;
      if (peer instanceof kplus.Workload) byWorkload.set(peer, [...(byWorkload.get(peer) ?? []), backend.pods!.port]);
      else connect(this.deployment, this.node.id, `backend-${backend.name}`, peer, [backend.pods?.port ?? backend.port]);
    }
    for (const [workload, ports] of byWorkload) connect(this.deployment, this.node.id, ownerName(workload), workload, ports);
  }
}

/** Egress from `from` to `peer` (and ingress on the peer when it is a workload); to any address when the peer is unknown. */
function connect(from: kplus.Deployment, fromName: string, name: string, peer: kplus.INetworkPolicyPeer | undefined, ports: readonly number[]): void {
  if (peer instanceof kplus.Workload) {
    allowConnection(from, peer, ports, { from: fromName, to: name });
  } else {
    allowEgress(from, name, peer ?? (() => everyAddress(from, `${name}-anywhere`)), ports);
  }
}

/** A byte count in nginx's size syntax, as short as exact (`10m`, `512k`). */
function nginxSize(bytes: number): string {
  for (const [unit, factor] of [['g', 1024 ** 3], ['m', 1024 ** 2], ['k', 1024]] as const) {
    if (bytes > 0 && bytes % factor === 0) return `${bytes / factor}${unit}`;
  }
  return String(bytes);
}
