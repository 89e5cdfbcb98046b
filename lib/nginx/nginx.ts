import { Chart, Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { recommendedLabels } from '../core/labels';
import { allowEgress, allowIngress, allowIngressFromAnywhere, everyAddress } from '../core/network';
import { rollOnChange } from '../core/rollout';
import { markForScraping } from '../core/scraping';
import { restrictPod, restrictedContainerSecurityContext, restrictedPodSecurityContext } from '../core/security';
import { PropValidator } from '../core/validation';
import { disruptionBudget } from '../core/disruption';
import { IRouterEndpoint } from '../router/router';
import { RequestInput } from '../router/service/rules';
import { RoutingConfModel, renderRoutingConf } from './routing-conf';

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

/** Ways to declare a backend. */
export class Backend {
  /**
   * A Service of this app: its first port unless `port` is given. With the `workload` behind it,
   * the NetworkPolicies allow exactly NGINX to that workload on the Service's target port.
   */
  static fromService(name: string, service: kplus.Service, options: { readonly port?: number; readonly workload?: kplus.Workload } = {}): IBackend {
    const namespace = service.metadata.namespace ?? Chart.of(service).namespace ?? 'default';
    const servicePort = service.ports.find((p) => options.port === undefined || p.port === options.port);
    const port = options.port ?? servicePort?.port ?? 80;
    const pods = options.workload ? { peer: options.workload, port: servicePort?.targetPort ?? port } : undefined;
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

export interface NginxProps {
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
   * Router connect and read timeout, milliseconds: a slower router gets the client a 504.
   * @default 500
   */
  readonly routerTimeoutMs?: number;
  /**
   * Cache router decisions this many seconds, keyed by method, host, URI and the headers and
   * cookies the rules read. A change at run time then takes up to this long (plus under a second:
   * nginx counts whole seconds) to apply; 0 turns the cache off, so every request asks the router.
   * @default DEFAULT_DECISION_CACHE_TTL_SECONDS (1)
   */
  readonly decisionCacheTtlSeconds?: number;
  /**
   * Backend connect timeout, milliseconds.
   * @default 2000
   */
  readonly backendConnectTimeoutMs?: number;
  /**
   * Backend read and send timeout, seconds.
   * @default 60
   */
  readonly backendTimeoutSeconds?: number;
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
   * Largest request body, in nginx size syntax.
   * @default '10m'
   */
  readonly clientMaxBodySize?: string;
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
   * @default kplus.ServiceType.CLUSTER_IP - behind an existing ingress
   */
  readonly serviceType?: kplus.ServiceType;
  /**
   * Fixed node port, with `serviceType: NODE_PORT`.
   * @default - Kubernetes picks one
   */
  readonly nodePort?: number;
  /**
   * Service port.
   * @default 80
   */
  readonly servicePort?: number;
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
export const NGINX_EXPORTER_IMAGE = 'nginx/nginx-prometheus-exporter:1.4.2';
const NGINX_USER = 101;
const EXPORTER_USER = 65534;
const CONFIG_DIR = '/etc/nginx/platform';
const HTTP_PORT = 8080;
const HEALTH_PORT = 8081;
const STATUS_PORT = 8082;
const EXPORTER_PORT = 9113;
const NGINX_SIZE = /^\d+[kKmMgG]?$/;
const PATH_PREFIX = /^\/[A-Za-z0-9\-._~/%]*$/;
// Names that mean something else as a `map` key.
const RESERVED_NAMES = ['default', 'hostnames', 'include', 'volatile'];

/** nginx variables of the request fields a decision depends on (for the cache key). */
function inputVariables(inputs: readonly RequestInput[]): string[] {
  return inputs.map((input) =>
    'header' in input
      ? `$http_${input.header.toLowerCase().replace(/-/g, '_')}`
      // nginx has a variable per cookie only for names that are variable-safe; else the whole header.
      : /^[A-Za-z0-9_]+$/.test(input.cookie) ? `$cookie_${input.cookie}` : '$http_cookie',
  ).filter((v, i, all) => all.indexOf(v) === i);
}

/**
 * The decision cache's default TTL: a hot path pays one router round trip a second per key (the
 * dynamic route then costs about what a direct proxy_pass does), and a change applies within 2 s.
 */
export const DEFAULT_DECISION_CACHE_TTL_SECONDS = 1;

/**
 * NGINX in front of a dynamic router: each request asks the router (auth_request) which backend
 * to use, and is proxied there only if the answer is in the allowlist. Fails closed with
 * documented statuses (see lib/nginx/README.md).
 */
export class Nginx extends Construct {
  public readonly service: kplus.Service;
  public readonly deployment: kplus.Deployment;
  /** Service port clients use. */
  public readonly port: number;
  /** The typed model the ConfigMap's nginx.conf is rendered from. */
  public readonly confModel: RoutingConfModel;
  /** nginx.conf as the ConfigMap holds it. */
  public readonly conf: string;

  constructor(scope: Construct, id: string, props: NginxProps) {
    super(scope, id);
    const v = new PropValidator(this, 'Nginx');
    const backends = props.backends;
    const directRoutes = props.directRoutes ?? [];
    const routerTimeoutMs = props.routerTimeoutMs ?? 500;
    const decisionCacheTtlSeconds = props.decisionCacheTtlSeconds ?? DEFAULT_DECISION_CACHE_TTL_SECONDS;
    const backendConnectTimeoutMs = props.backendConnectTimeoutMs ?? 2000;
    const backendTimeoutSeconds = props.backendTimeoutSeconds ?? 60;
    const keepaliveConnections = props.keepaliveConnections ?? 32;
    const workerProcesses = props.workerProcesses ?? 2;
    const workerConnections = props.workerConnections ?? 4096;
    const clientMaxBodySize = props.clientMaxBodySize ?? '10m';
    const answerHeader = props.router.answerHeader ?? 'X-Route-Target';
    const replicas = props.replicas ?? 1;
    const serviceType = props.serviceType ?? kplus.ServiceType.CLUSTER_IP;
    this.port = props.servicePort ?? 80;

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
    v.integer('routerTimeoutMs', routerTimeoutMs, 10, 60_000);
    v.integer('decisionCacheTtlSeconds', decisionCacheTtlSeconds, 0, 300);
    v.integer('backendConnectTimeoutMs', backendConnectTimeoutMs, 10, 60_000);
    v.integer('backendTimeoutSeconds', backendTimeoutSeconds, 1, 3600);
    v.integer('keepaliveConnections', keepaliveConnections, 1, 1024);
    v.integer('workerProcesses', workerProcesses, 1, 64);
    v.integer('workerConnections', workerConnections, 64, 65536);
    v.check(NGINX_SIZE.test(clientMaxBodySize), 'clientMaxBodySize', clientMaxBodySize, "an nginx size such as 512k, 10m or 1g");
    v.check(/^[A-Za-z][A-Za-z0-9-]{0,62}$/.test(answerHeader), 'router.answerHeader', answerHeader, 'an HTTP header name');
    v.integer('replicas', replicas, 1, 100);
    v.port('servicePort', this.port);
    if (props.nodePort !== undefined) {
      v.nodePort('nodePort', props.nodePort);
      v.check(serviceType === kplus.ServiceType.NODE_PORT, 'serviceType', serviceType, `${kplus.ServiceType.NODE_PORT} when nodePort is set`);
    }
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
      clientMaxBodySize,
      decisionInputs: inputVariables(props.router.decisionInputs ?? []),
      decisionCacheTtlSeconds,
      paths: { pidFile: '/tmp/nginx.pid', tempDir: '/tmp', cacheDir: '/var/cache/nginx/route' },
      accessLog: props.accessLog === false ? 'off' : '/dev/stdout',
      errorLog: '/dev/stderr',
    };
    this.conf = renderRoutingConf(this.confModel);

    const labels = recommendedLabels({ name: 'nginx', instance: `${Chart.of(this).node.id}-${this.node.id}`, component: 'gateway' });
    const configMap = new kplus.ConfigMap(this, 'config', { metadata: { labels } });
    configMap.addData('nginx.conf', this.conf);

    this.deployment = new kplus.Deployment(this, 'Default', {
      metadata: { labels },
      podMetadata: { labels },
      replicas,
      securityContext: restrictedPodSecurityContext(NGINX_USER),
      automountServiceAccountToken: false,
    });
    const nginx = this.deployment.addContainer({
      name: 'nginx',
      image: props.image ?? NGINX_IMAGE,
      imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
      // Our nginx.conf, not the image's: its entrypoint scripts would edit files on a read-only root.
      command: ['nginx', '-c', `${CONFIG_DIR}/nginx.conf`, '-g', 'daemon off;'],
      ports: [{ number: HTTP_PORT, name: 'http' }, { number: HEALTH_PORT, name: 'health' }],
      securityContext: restrictedContainerSecurityContext(NGINX_USER),
      resources: props.resources ?? {
        cpu: { request: kplus.Cpu.millis(100), limit: kplus.Cpu.units(1) },
        memory: { request: Size.mebibytes(64), limit: Size.mebibytes(256) },
      },
      // Ready: the config loaded and a worker answers. Alive: the listener accepts (more patient).
      readiness: kplus.Probe.fromHttpGet('/healthz', { port: HEALTH_PORT, periodSeconds: Duration.seconds(5), failureThreshold: 2 }),
      liveness: kplus.Probe.fromTcpSocket({ port: HTTP_PORT, periodSeconds: Duration.seconds(10), failureThreshold: 3, initialDelaySeconds: Duration.seconds(5) }),
    });
    nginx.mount(CONFIG_DIR, kplus.Volume.fromConfigMap(this, 'config-volume', configMap), { readOnly: true });
    // The only writable paths: pid and temp files, and the decision cache.
    nginx.mount('/tmp', kplus.Volume.fromEmptyDir(this, 'tmp', 'tmp', { sizeLimit: Size.mebibytes(64) }));
    // Memory-backed: a hit reads a tiny file per request (counts against the memory limit).
    nginx.mount('/var/cache/nginx', kplus.Volume.fromEmptyDir(this, 'cache', 'cache', { medium: kplus.EmptyDirMedium.MEMORY, sizeLimit: Size.mebibytes(32) }));

    this.deployment.addContainer({
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
    restrictPod(this.deployment);
    markForScraping(this.deployment, { port: EXPORTER_PORT, path: '/metrics' });
    rollOnChange(this.deployment, 'nginx-conf', this.conf);

    this.service = new kplus.Service(this, 'Resource', {
      metadata: { labels },
      selector: this.deployment,
      type: serviceType,
      ports: [{ port: this.port, targetPort: HTTP_PORT, name: 'http', nodePort: props.nodePort }],
    });
    if (replicas > 1) disruptionBudget(this, 'pdb', this.deployment, { labels });
    this.allowTraffic(props.router, backends);
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
    for (const [workload, ports] of byWorkload) connect(this.deployment, this.node.id, ownerId(workload), workload, ports);
  }
}

/** The id of the construct that owns a workload (`echo`, `router`), or the workload's own id. */
function ownerId(workload: kplus.Workload): string {
  const owner = workload.node.scope;
  return owner && !Chart.isChart(owner) ? owner.node.id : workload.node.id;
}

/** Egress from `from` to `peer` (and ingress on the peer when it is a workload); to any address when the peer is unknown. */
function connect(from: kplus.Deployment, fromName: string, name: string, peer: kplus.INetworkPolicyPeer | undefined, ports: readonly number[]): void {
  if (peer instanceof kplus.Workload) {
    allowEgress(from, name, peer, ports);
    allowIngress(peer, fromName, from, ports);
  } else {
    allowEgress(from, name, peer ?? everyAddress(from, `${name}-anywhere`), ports);
  }
}
