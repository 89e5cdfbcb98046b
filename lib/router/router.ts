import * as fs from 'fs';
import * as path from 'path';
import { Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { addMonitoring, shippedDashboard } from '../core/monitoring';
import { routerRuleGroup } from './rules';
import { IRedisEndpoint, RedisCredentials } from '../core/endpoints';
import type { RedisClientAccess } from '../redis/acl';
import { registerConstruct } from '../core/construct';
import { Memo } from '../core/memo';
import { imageVersion } from '../core/image';
import { recommendedLabels } from '../core/labels';
import { constructName, instanceName } from '../core/names';
import { applyCommonProps, chartNamespace, checkCommonProps, checkResources, CommonProps, cpuAndMemory, resolveResources, setEphemeralStorage } from '../core/props';
import { secretVolume } from '../core/secrets';
import { allowConnection } from '../core/network';
import { rollOnChange } from '../core/rollout';
import { markForScraping } from '../core/scraping';
import { restrictPod, restrictedContainerSecurityContext, restrictedPodSecurityContext } from '../core/security';
import { PropValidator } from '../core/validation';
import { disruptionBudget } from '../core/disruption';
import { MatchParams, PathPrefixParams, RedisLookupParams, RefuseParams, RequestInput, RouterConfig, WeightedParams, parseRouterConfig, ruleInputs } from './service/rules';

/** A routing rule: a registered strategy and its typed parameters. Rules are tried in order. */
export type RouteRule =
  /** Requests whose path starts with `prefix` go to `target`. */
  | { readonly strategy: 'pathPrefix'; readonly params: PathPrefixParams }
  /** Requests whose header `name` equals `value` go to `target`. */
  | { readonly strategy: 'header'; readonly params: MatchParams }
  /** Requests whose cookie `name` equals `value` go to `target`. */
  | { readonly strategy: 'cookie'; readonly params: MatchParams }
  /** A weighted split (canary): sticky by a header or cookie, else random per request. */
  | { readonly strategy: 'weighted'; readonly params: WeightedParams }
  /** `GET keyPrefix+key` in Redis names the target; a missing key lets the next rule decide. */
  | { readonly strategy: 'redisLookup'; readonly params: RedisLookupParams }
  /** Requests whose path starts with `prefix` are refused with 401 or 403. */
  | { readonly strategy: 'refuse'; readonly params: RefuseParams };

/** What NGINX needs to ask a router. The Router construct implements it; so can a user's own service. */
export interface IRouterEndpoint {
  /** In-cluster host name, e.g. `dev-router.platform-dev.svc`. */
  readonly host: string;
  /** Service port of `GET /route`. */
  readonly port: number;
  /**
   * Response header that carries the answer.
   * @default 'X-Route-Target'
   */
  readonly answerHeader?: string;
  /** Backend names the router can answer, when known: NGINX checks each is in its allowlist. */
  readonly targets?: readonly string[];
  /**
   * Request headers and cookies the decisions depend on: NGINX keys its decision cache by them and
   * sends the router these, as it read them, and no other header of the request. A router of your
   * own must declare every header and cookie it reads.
   * @default - none: the router decides on method, host and URI only
   */
  readonly decisionInputs?: readonly RequestInput[];
  /**
   * The router's pods, for NetworkPolicies (NGINX egress, router ingress).
   * @default - NGINX may connect to any address on `port`
   */
  readonly workload?: kplus.Workload;
}

/** A user's own router image, serving the same HTTP contract (see lib/router/README.md). */
export interface RouterImage {
  /** Image, pinned to a version. */
  readonly image: string;
  /**
   * Command; it gets `--config /etc/router/rules.json --port <port>` as arguments.
   * @default - the image's entrypoint
   */
  readonly command?: readonly string[];
  /**
   * Non-root user id the image runs as.
   * @default 1000
   */
  readonly user?: number;
}

export interface RouterProps extends CommonProps {
  /** Backend names the rules may answer (each must be in NGINX's allowlist). */
  readonly targets: readonly string[];
  /**
   * Routing rules, tried in order; the first that decides wins.
   * @default [] - every request gets `defaultTarget`
   */
  readonly rules?: readonly RouteRule[];
  /**
   * Target when no rule decides.
   * @default - none: such a request is an error (router 404, no_rule; NGINX answers 502 router-error)
   */
  readonly defaultTarget?: string;
  /**
   * Redis for the `redisLookup` strategy.
   * @default - no Redis: `redisLookup` rules are rejected
   */
  readonly redis?: IRedisEndpoint;
  /**
   * The Redis user the router logs in as (`AUTH <user> <password>`); its password's Secret key is
   * mounted as a file. Give it the keys and commands `Router.redisAccess(rules)` says.
   * @default - none: only for a Redis without users
   */
  readonly redisCredentials?: RedisCredentials;
  /**
   * Timeout of one Redis command (whole milliseconds, up to 10s); keep it below NGINX's router
   * timeout so a Redis outage is reported as redis_unavailable rather than a router timeout.
   * @default Duration.millis(100)
   */
  readonly redisTimeout?: Duration;
  /**
   * Router pods; two or more get a PodDisruptionBudget.
   * @default 1
   */
  readonly replicas?: number;
  /**
   * Container port of the HTTP API (also the Service port).
   * @default 8080
   */
  readonly port?: number;
  /**
   * The official Node image the reference router runs on, from a ConfigMap (no image build).
   * @default ROUTER_NODE_IMAGE
   */
  readonly nodeImage?: string;
  /**
   * Run your own router image instead of the reference implementation; rules.json is still mounted.
   * @default - the reference router (lib/router/service/main.ts) on `nodeImage`
   */
  readonly ownImage?: RouterImage;
  /**
   * Container resources.
   * @default 50m/64Mi requested, 500m/128Mi limit
   */
  readonly resources?: kplus.ContainerResources;
}

/** Node >= 23.6 strips TypeScript types natively: the router source runs as is. */
export const ROUTER_NODE_IMAGE = 'node:24.11.1-alpine';
/**
 * V8 flags of the router's node: a small young generation (2 MiB semi-spaces instead of 16) and a
 * 64 MiB old-space cap keep the heap from growing into the pod's 128 MiB limit under abuse; with
 * node's defaults a run of the attacks in test/router-abuse.test.ts peaked at 131 MiB, with these at 84.
 */
export const ROUTER_NODE_FLAGS = ['--max-semi-space-size=2', '--max-old-space-size=64'] as const;
const NODE_USER = 1000;
const CONFIG_DIR = '/etc/router';
const REDIS_SECRET_DIR = '/var/run/secrets/redis';

/** The service's modules, each `<name>.ts` in lib/router/service/; main.ts is the entry point. */
export const ROUTER_MODULES = ['main', 'server', 'rules', 'path', 'redis', 'metrics'] as const;

const sourceCache = new Memo<string, Readonly<Record<string, string>>>(16);

/**
 * The router's source files as the ConfigMap ships them (`<name>.ts`, plus a package.json that
 * makes them ES modules), found beside this module: `service/<name>.ts` from source (lib/router/),
 * `service/<name>.mts` from the compiled package (build/lib/router/, where the build copies them:
 * the package ships no .ts but declarations, which TypeScript consumers would type-check).
 */
export function routerSources(dir: string = __dirname): Readonly<Record<string, string>> {
  return sourceCache.get(dir, () => readRouterSources(dir));
}

function readRouterSources(dir: string): Readonly<Record<string, string>> {
  const files: Record<string, string> = { 'package.json': '{ "type": "module" }\n' };
  for (const name of ROUTER_MODULES) {
    const candidates = [path.join(dir, 'service', `${name}.ts`), path.join(dir, 'service', `${name}.mts`)];
    const file = candidates.find((f) => fs.existsSync(f));
    if (!file) throw new Error(`the router source is missing: none of ${candidates.join(', ')} exists (the package build must copy lib/router/service/*.ts to build/lib/router/service/*.mts)`);
    files[`${name}.ts`] = fs.readFileSync(file, 'utf8');
  }
  return files;
}

/** Resources of the router container, each part overridable by `resources`. */
export const ROUTER_DEFAULT_RESOURCES = {
  cpu: { request: kplus.Cpu.millis(50), limit: kplus.Cpu.millis(500) },
  memory: { request: Size.mebibytes(64), limit: Size.mebibytes(128) },
  // Logs only: it mounts no emptyDir.
  ephemeralStorage: { request: Size.mebibytes(64), limit: Size.mebibytes(256) },
} as const;

/**
 * The dynamic router: NGINX asks it, per request, which backend to use. Runs the reference
 * implementation (TypeScript, Node built-ins only) from a ConfigMap on the official Node image.
 */
export class Router extends Construct implements IRouterEndpoint {
  /** The Service NGINX asks. */
  public readonly service: kplus.Service;
  /** The router Deployment (construct id `Resource`). */
  public readonly deployment: kplus.Deployment;
  /** The router's pods. */
  public readonly workload: kplus.Workload;
  public readonly port: number;
  public readonly host: string;
  /** `http://<host>:<port>` */
  public readonly url: string;
  public readonly targets: readonly string[];
  /** The reference router answers in `X-Route-Target`. */
  public readonly answerHeader = 'X-Route-Target';
  public readonly decisionInputs: readonly RequestInput[];
  /** rules.json as mounted in the pod. */
  public readonly rulesJson: string;

  /**
   * What the router needs from Redis for `rules`: GET on the key prefix of each `redisLookup`
   * rule, nothing else; undefined when no rule reads Redis (then it needs no Redis at all).
   */
  public static redisAccess(rules: readonly RouteRule[]): RedisClientAccess | undefined {
    const prefixes = [...new Set(rules.flatMap((rule) => (rule.strategy === 'redisLookup' ? [rule.params.keyPrefix] : [])))];
    return prefixes.length > 0 ? { keyPrefixes: prefixes, commands: ['GET'] } : undefined;
  }

  constructor(scope: Construct, id: string, props: RouterProps) {
    super(scope, id);
    registerConstruct(this);
    const validator = new PropValidator(this, 'Router');
    checkCommonProps(validator, props);
    checkResources(validator, 'resources', resolveResources(props.resources, ROUTER_DEFAULT_RESOURCES), props.resources);
    this.port = props.port ?? 8080;
    const replicas = props.replicas ?? 1;
    const redisTimeoutMs = (props.redisTimeout ?? Duration.millis(100)).toMilliseconds({ integral: false });
    validator.port('port', this.port);
    validator.integer('replicas', replicas, 1, 100);
    validator.check(Number.isInteger(redisTimeoutMs) && redisTimeoutMs >= 1 && redisTimeoutMs <= 10_000, 'redisTimeout', `${redisTimeoutMs}ms`, 'whole milliseconds from 1ms to 10s');
    if (props.redisCredentials) validator.secretKeyRef('redisCredentials.password', props.redisCredentials.password);
    if (props.ownImage) {
      validator.pinnedImage('ownImage.image', props.ownImage.image);
      if (props.ownImage.user !== undefined) validator.integer('ownImage.user', props.ownImage.user, 1);
    }

    const config: RouterConfig = {
      targets: props.targets,
      rules: props.rules ?? [],
      defaultTarget: props.defaultTarget,
      redis: props.redis
        ? {
          host: props.redis.host,
          port: props.redis.port,
          timeoutMs: redisTimeoutMs,
          ...(props.redisCredentials ? { username: props.redisCredentials.username, passwordFile: `${REDIS_SECRET_DIR}/password` } : {}),
        }
        : undefined,
    };
    if (props.redis?.requiresAuth && !props.redisCredentials) validator.fail('redisCredentials', undefined, 'a Redis user (Redis refuses clients that do not log in)');
    if (props.redisCredentials && !props.redis) validator.fail('redisCredentials', props.redisCredentials.username, 'set only together with redis');
    // The same validation the router runs at start: a bad rule fails the synth, not the pod.
    const { parsed, problems } = parseRouterConfig(JSON.parse(JSON.stringify(config)));
    for (const p of problems) validator.fail(p.prop, p.value, p.allowed);
    validator.throwIfInvalid();

    this.targets = parsed!.config.targets;
    this.decisionInputs = ruleInputs(parsed!);
    this.rulesJson = `${JSON.stringify(config, null, 2)}\n`;
    const namespace = chartNamespace(this, 'Router', 'its host name');
    const image = props.ownImage?.image ?? props.nodeImage ?? ROUTER_NODE_IMAGE;

    const labels = recommendedLabels({ name: 'router', instance: instanceName(this), component: 'router', version: imageVersion(image) });
    const configMap = new kplus.ConfigMap(this, 'config', { metadata: { labels } });
    configMap.addData('rules.json', this.rulesJson);
    // The service's modules, run as they are: Node >= 23.6 strips the types, package.json makes them ES modules.
    const sources = props.ownImage ? {} : routerSources();
    for (const [file, text] of Object.entries(sources)) configMap.addData(file, text);

    const user = props.ownImage?.user ?? NODE_USER;
    this.deployment = new kplus.Deployment(this, 'Resource', {
      metadata: { labels },
      podMetadata: { labels },
      replicas,
      securityContext: restrictedPodSecurityContext(user),
      automountServiceAccountToken: false,
      // Longer than the drain delay: readiness fails first, then in-flight requests finish.
      terminationGracePeriod: Duration.seconds(20),
    });
    const args = ['--config', `${CONFIG_DIR}/rules.json`, '--port', String(this.port)];
    const resources = resolveResources(props.resources, ROUTER_DEFAULT_RESOURCES);
    const container = this.deployment.addContainer({
      name: 'router',
      image,
      imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
      command: props.ownImage ? props.ownImage.command && [...props.ownImage.command] : ['node', ...ROUTER_NODE_FLAGS, '--disable-warning=ExperimentalWarning', `${CONFIG_DIR}/main.ts`],
      args: [...args, '--drain-ms', '5000'],
      ports: [{ number: this.port, name: 'http' }],
      securityContext: restrictedContainerSecurityContext(user),
      resources: cpuAndMemory(resources),
      envVariables: { NODE_ENV: kplus.EnvValue.fromValue('production') },
      readiness: kplus.Probe.fromHttpGet('/readyz', { port: this.port, periodSeconds: Duration.seconds(5), failureThreshold: 1 }),
      liveness: kplus.Probe.fromHttpGet('/healthz', { port: this.port, periodSeconds: Duration.seconds(10), failureThreshold: 3, initialDelaySeconds: Duration.seconds(5) }),
    });
    setEphemeralStorage(this.deployment, container, resources.ephemeralStorage);
    container.mount(CONFIG_DIR, kplus.Volume.fromConfigMap(this, 'config-volume', configMap), { readOnly: true });
    if (props.redis && props.redisCredentials) {
      const { password } = props.redisCredentials;
      container.mount(REDIS_SECRET_DIR, secretVolume(this, 'redis-password', `secret-${password.name}`, { password }), { readOnly: true });
    }
    restrictPod(this.deployment);
    markForScraping(this.deployment, { port: this.port, path: '/metrics' });
    rollOnChange(this.deployment, 'router-config', this.rulesJson, ...(props.ownImage ? [''] : Object.values(sources)));

    this.service = new kplus.Service(this, 'service', {
      metadata: { name: constructName(this), labels },
      selector: this.deployment,
      ports: [{ port: this.port, targetPort: this.port, name: 'http' }],
    });
    if (replicas > 1) disruptionBudget(this, 'pdb', this.deployment, { labels });
    this.workload = this.deployment;
    if (props.redis) allowConnection(this.deployment, props.redis.workload, [props.redis.port]);
    this.host = `${this.service.name}.${namespace}.svc`;
    this.url = `http://${this.host}:${this.port}`;
    // Its decision alerts, and the dashboard it shares with NGINX (provisioned once).
    addMonitoring(this, { ruleGroups: [routerRuleGroup()], dashboards: [shippedDashboard('platform/nginx-router.json')] });
    applyCommonProps(this, props);
  }
}
