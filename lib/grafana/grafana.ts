import * as fs from 'fs';
import * as path from 'path';
import { ApiObject, Chart, Duration, JsonPatch, Lazy, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { KEEP_ON_PRUNE_ANNOTATIONS } from '../core/persistence';
import { Construct, IConstruct } from 'constructs';
import { IPrometheusEndpoint } from '../core/endpoints';
import { registerConstruct } from '../core/construct';
import { addRenderedCheck, RenderObject } from '../core/rendered-checks';
import { imageVersion } from '../core/image';
import { recommendedLabels } from '../core/labels';
import { Memo } from '../core/memo';
import { constructName, instanceName } from '../core/names';
import { applyCommonProps, chartNamespace, checkCommonProps, checkResources, CommonProps, cpuAndMemory, resolveResources, ServiceExposure, setEphemeralStorage } from '../core/props';
import { secretVolume } from '../core/secrets';
import { formatPrometheusDuration } from '../prometheus/syntax';
import { rollOnChange } from '../core/rollout';
import { allowConnection, allowEgress, allowIngress, allowIngressFromAnywhere, everyAddress } from '../core/network';
import { markForScraping } from '../core/scraping';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext, restrictPod } from '../core/security';
import { PropValidator, SecretKeyRef, ValidationError } from '../core/validation';
import { toYaml } from '../core/yaml';
import { broughtEntry, CheckedDashboard, DashboardChecker, folderEntries, isObject } from './dashboards';
import { collectMonitoring, Monitoring } from '../core/monitoring';
export { platformDashboardsDir } from '../core/monitoring';
import { checkDatasource, datasourcesYaml, GrafanaDatasource, PROMETHEUS_DATASOURCE_UID } from './datasources';

/** The official image, pinned. */
export const GRAFANA_IMAGE = 'grafana/grafana:11.6.5';
/** The seed's NodePort for Grafana, used where an environment exposes NodePorts. */
export const GRAFANA_NODE_PORT = 30040;
/** Grafana's HTTP port in the container. */
export const GRAFANA_CONTAINER_PORT = 3000;
/** The user the official image runs as. */
export const GRAFANA_USER_ID = 472;
/**
 * The bytes `kubectl apply` (client-side) may store in an object's annotations; its
 * last-applied-configuration annotation holds the whole object as JSON.
 */
export const KUBECTL_LAST_APPLIED_LIMIT_BYTES = 262144;

// The official image's GF_PATHS_DATA and GF_PATHS_PROVISIONING.
const DATA_DIR = '/var/lib/grafana';
const PROVISIONING_DIR = '/etc/grafana/provisioning';
const DASHBOARDS_DIR = '/etc/grafana/dashboards';
const ADMIN_SECRET_DIR = '/etc/grafana/secrets/admin';
const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

/** Props of Grafana. */
export interface GrafanaProps extends CommonProps {
  /** The Prometheus Grafana queries: provisioned as the default datasource, with the fixed uid `prometheus`. */
  readonly prometheus: IPrometheusEndpoint;
  /** The admin user name, a key of an existing Secret; mounted as a file, never copied into dist/. */
  readonly adminUser: SecretKeyRef;
  /** The admin password, a key of an existing Secret (usually the same Secret as `adminUser`). */
  readonly adminPassword: SecretKeyRef;
  /**
   * More datasources to provision (Loki, Tempo...), known to the dashboard checks; none may be the
   * default. `addDatasource()` adds more later.
   * @default []
   */
  readonly additionalDatasources?: readonly GrafanaDatasource[];
  /**
   * Folders of dashboard JSON models (as exported from the Grafana UI) to provision: every `*.json`,
   * each subfolder becoming a Grafana folder, uids unique across all folders. Checked at synth.
   * `platformDashboardsDir()` is the folder this package ships; add your team's beside it.
   * @default - no dashboards
   */
  readonly dashboardsDirs?: readonly string[];
  /**
   * Scrape interval of a Prometheus endpoint that does not declare one (the datasource's `timeInterval`;
   * a Prometheus construct's own `scrapeInterval` is used, and a different value here fails): `$__rate_interval` spans at
   * least four of them, so rates never come out empty.
   * @default - the Prometheus's scrapeInterval, or 30 seconds for an endpoint that does not say
   */
  readonly prometheusScrapeInterval?: Duration;
  /**
   * Container image.
   * @default GRAFANA_IMAGE
   */
  readonly image?: string;
  /**
   * How the Service is exposed, e.g. `ServiceExposure.nodePort(GRAFANA_NODE_PORT)`.
   * @default ServiceExposure.clusterIp()
   */
  readonly expose?: ServiceExposure;
  /**
   * Namespace of the ingress controller whose pods may reach Grafana when the Service is not
   * exposed itself (ClusterIP): Grafana admits them and nothing else.
   * @default 'ingress-nginx'
   */
  readonly ingressControllerNamespace?: string;
  /**
   * Port of the Service.
   * @default 80
   */
  readonly port?: number;
  /**
   * Let visitors in without logging in, as Viewers of the main organisation.
   * @default false
   */
  readonly anonymousAccess?: boolean;
  /**
   * Keep Grafana's database (users, preferences, dashboards made in the UI) on a
   * PersistentVolumeClaim of this size; the Deployment then uses the Recreate strategy.
   * @default - an emptyDir: everything not provisioned is lost when the pod goes
   */
  readonly storageSize?: Size;
  /**
   * StorageClass of the PersistentVolumeClaim (only with `storageSize`).
   * @default - the cluster's default StorageClass
   */
  readonly storageClassName?: string;
  /**
   * CPU and memory of the Grafana container.
   * @default - requests 100m CPU and 256Mi memory, limits 500m CPU and 512Mi memory
   */
  readonly resources?: kplus.ContainerResources;
  /**
   * How often Grafana rescans the dashboard files for changes (whole seconds, 10s to 1h).
   * @default Duration.seconds(30)
   */
  readonly dashboardUpdateInterval?: Duration;
  /**
   * Let users save changes to provisioned dashboards from the UI (lost when the file changes).
   * @default false
   */
  readonly allowUiUpdates?: boolean;
  /**
   * Keep a dashboard in Grafana when its file disappears.
   * @default false - a dashboard removed from dashboardsDirs is removed from Grafana
   */
  readonly disableDeletion?: boolean;
  /**
   * The URL users reach Grafana at (`GF_SERVER_ROOT_URL`), for links and redirects.
   * @default - Grafana's default, http://localhost:3000/
   */
  readonly rootUrl?: string;
}

/** Resources of the Grafana container, each part overridable by `resources`. */
export const GRAFANA_DEFAULT_RESOURCES = {
  cpu: { request: kplus.Cpu.millis(100), limit: kplus.Cpu.millis(500) },
  memory: { request: Size.mebibytes(256), limit: Size.mebibytes(512) },
  // Logs, /tmp and the SQLite database when it lives on an emptyDir (the default).
  ephemeralStorage: { request: Size.mebibytes(64), limit: Size.gibibytes(1) },
} as const;

/**
 * Grafana with a provisioned Prometheus datasource, the dashboards of its folders and those the
 * systems of its chart bring (`addMonitoring`, made before or after it), one ConfigMap per
 * dashboard. Dashboards are checked at synth (Grafana skips a bad file silently): JSON, title,
 * uid, datasource references, `${DS_...}` placeholders, PromQL syntax, and the size
 * client-side `kubectl apply` accepts.
 */
export class Grafana extends Construct {
  /** The Deployment (one replica: the SQLite database cannot be shared; construct id `Resource`). */
  public readonly deployment: kplus.Deployment;
  /** The Service in front of Grafana. */
  public readonly service: kplus.Service;
  /** The Service port. */
  public readonly port: number;
  /** In-cluster URL, e.g. `http://dev-grafana.platform-dev.svc:80`. */
  public readonly url: string;
  /** How the Service is exposed. */
  public readonly expose: ServiceExposure;
  /** The image the container runs. */
  public readonly image: string;

  private readonly datasourceList: GrafanaDatasource[] = [];
  private readonly datasourcesConfigMap: kplus.ConfigMap;
  /** Its folders' dashboards, then those its chart's systems bring, by path (`brought`): the order of the ConfigMaps. */
  private readonly provisioned: { readonly dashboard: CheckedDashboard; readonly brought?: string }[] = [];
  private readonly dashboardChecker: DashboardChecker;
  private readonly dashboardScope: Construct;
  private readonly dashboardLabels: Record<string, string>;
  private readonly dashboardNamePrefix: string;
  private readonly dashboardsWhere: string;
  private readonly commonProps: CommonProps;
  /** The folders and their volumes, rendered from `provisioned` when first asked for after a change. */
  private folderCache?: DashboardFolder[];
  private folderVolumeCount = 0;

  constructor(scope: Construct, id: string, props: GrafanaProps) {
    super(scope, id);
    registerConstruct(this);
    this.image = props.image ?? GRAFANA_IMAGE;
    this.port = props.port ?? 80;
    this.expose = props.expose ?? ServiceExposure.clusterIp();
    const scrapeInterval = props.prometheusScrapeInterval ?? props.prometheus?.scrapeInterval ?? Duration.seconds(30);
    const updateInterval = props.dashboardUpdateInterval ?? Duration.seconds(30);
    const dashboardsDirs = (props.dashboardsDirs ?? []).map((dir) => path.resolve(dir));

    const validator = new PropValidator(this, 'Grafana');
    checkCommonProps(validator, props);
    checkResources(validator, 'resources', resolveResources(props.resources, GRAFANA_DEFAULT_RESOURCES), props.resources);
    validator.check(Boolean(props.prometheus?.url), 'prometheus', props.prometheus?.url, 'an IPrometheusEndpoint with a url (the Prometheus construct)');
    validator.secretKeyRef('adminUser', props.adminUser);
    if (validator.secretKeyRef('adminPassword', props.adminPassword) && props.adminUser) {
      validator.check(props.adminPassword.name === props.adminUser.name, 'adminPassword.name', props.adminPassword.name, `the Secret of adminUser ('${props.adminUser.name}'): one Secret holds both`);
    }
    validator.pinnedImage('image', this.image);
    const scrapeIntervalText = formatPrometheusDuration(scrapeInterval);
    validator.check(scrapeIntervalText !== undefined && scrapeInterval.toMilliseconds({ integral: false }) >= 1000, 'prometheusScrapeInterval', scrapeIntervalText ?? scrapeInterval.toHumanString(), 'a Duration of at least 1 second');
    // One interval: a Prometheus that says how often it scrapes is the only source of timeInterval.
    const declared = props.prometheus?.scrapeInterval;
    if (props.prometheusScrapeInterval && declared && scrapeIntervalText !== formatPrometheusDuration(declared)) {
      validator.fail('prometheusScrapeInterval', scrapeIntervalText, `unset: the Prometheus scrapes every ${formatPrometheusDuration(declared)} (set only for an endpoint that does not say)`);
    }
    validator.port('port', this.port);
    const updateSeconds = updateInterval.toSeconds({ integral: false });
    validator.check(Number.isInteger(updateSeconds) && updateSeconds >= 10 && updateSeconds <= 3600, 'dashboardUpdateInterval', `${updateSeconds}s`, 'whole seconds from 10s to 1h');
    if (props.storageClassName !== undefined && validator.check(props.storageSize !== undefined, 'storageClassName', props.storageClassName, 'set only together with storageSize')) {
      validator.storageClassName('storageClassName', props.storageClassName);
    }
    if (props.rootUrl !== undefined) validator.check(/^https?:\/\/\S+$/.test(props.rootUrl), 'rootUrl', props.rootUrl, 'an http:// or https:// URL');
    dashboardsDirs.forEach((dir, i) => {
      validator.check(fs.existsSync(dir) && fs.statSync(dir).isDirectory(), `dashboardsDirs[${i}]`, dir, 'an existing folder of dashboard JSON models');
    });
    if (props.ingressControllerNamespace !== undefined) validator.dnsLabel('ingressControllerNamespace', props.ingressControllerNamespace);
    validator.throwIfInvalid();

    this.datasourceList.push({
      name: 'Prometheus',
      uid: PROMETHEUS_DATASOURCE_UID,
      type: 'prometheus',
      url: props.prometheus.url,
      isDefault: true,
      // POST keeps long PromQL out of URL length limits.
      jsonData: { httpMethod: 'POST', timeInterval: scrapeIntervalText },
    });
    for (const datasource of props.additionalDatasources ?? []) this.addDatasource(datasource);

    const baseName = constructName(this);
    const namespace = chartNamespace(this, 'Grafana', 'its url');
    const labels = (component: string) => recommendedLabels({ name: 'grafana', instance: instanceName(this), component, version: imageVersion(this.image) });

    // Dashboards: its folders' and those the systems of its chart bring (addMonitoring), each file
    // once, checked and read now, so every problem surfaces at synth with its file and panel. A
    // system made later brings its own when it is made (collectDashboards): the same ConfigMaps,
    // volumes and checks, in the same order.
    this.commonProps = props;
    this.dashboardLabels = labels('dashboard');
    this.dashboardNamePrefix = `${baseName}-dashboard-`;
    this.dashboardsWhere = dashboardsDirs.length > 0 ? `dashboardsDirs ${dashboardsDirs.join(', ')}` : "the dashboards its chart's systems bring";
    // The datasources known now: a dashboard brought later is checked as one brought before.
    this.dashboardChecker = new DashboardChecker([...this.datasourceList]);
    const ownChart = (monitoring: Monitoring) => Chart.of(monitoring) === Chart.of(this);
    // Checked in the order the systems were made, as those made later are: the same problems either way.
    const fromDirs = this.dashboardChecker.check(folderEntries(dashboardsDirs));
    const brought = this.dashboardChecker.check(Monitoring.of(this).filter(ownChart).flatMap((m) => m.dashboards.map((file) => broughtEntry(file, m.node.scope!.node.path))));
    const problems = [...fromDirs.problems, ...brought.problems];
    if (problems.length > 0) throw dashboardError(this, this.dashboardsWhere, problems);
    const byPath = (a: CheckedDashboard, b: CheckedDashboard) => (a.path < b.path ? -1 : 1);
    this.provisioned.push(...fromDirs.dashboards.map((dashboard) => ({ dashboard })), ...[...brought.dashboards].sort(byPath).map((dashboard) => ({ dashboard, brought: dashboard.path })));
    this.dashboardScope = new Construct(this, 'dashboards');
    for (const p of this.provisioned) this.addDashboardConfigMap(p.dashboard);

    const providersYaml = () => toYaml({
      apiVersion: 1,
      providers: this.dashboardFolders().map((f) => ({
        name: f.folder === undefined ? 'general' : `folder-${f.folder}`,
        orgId: 1,
        folder: f.folder ?? '',
        ...(f.folder === undefined ? {} : { folderUid: `folder-${f.folder}` }),
        type: 'file',
        disableDeletion: props.disableDeletion ?? false,
        updateIntervalSeconds: updateSeconds,
        allowUiUpdates: props.allowUiUpdates ?? false,
        options: { path: f.volume.mountPath },
      })),
    });
    const providersConfigMap = new kplus.ConfigMap(this, 'dashboard-providers', { metadata: { labels: labels('provisioning') } });
    // Late-bound, as the folders' volumes: a folder a later system brings gets its provider.
    providersConfigMap.addData('dashboards.yaml', Lazy.any({ produce: providersYaml }));
    this.datasourcesConfigMap = new kplus.ConfigMap(this, 'datasources', { metadata: { labels: labels('provisioning') } });

    const storage = props.storageSize === undefined
      ? kplus.Volume.fromEmptyDir(this, 'data-volume', 'data')
      : kplus.Volume.fromPersistentVolumeClaim(this, 'data-volume', new kplus.PersistentVolumeClaim(this, 'data', {
        // Users, preferences and annotations: a GitOps prune or app deletion must not take them.
        metadata: { labels: labels('storage'), annotations: KEEP_ON_PRUNE_ANNOTATIONS },
        storage: props.storageSize,
        accessModes: [kplus.PersistentVolumeAccessMode.READ_WRITE_ONCE],
        storageClassName: props.storageClassName,
      }), { name: 'data' });

    this.deployment = new kplus.Deployment(this, 'Resource', {
      metadata: { name: baseName, labels: labels('server') },
      podMetadata: { labels: labels('server') },
      replicas: 1,
      // A PersistentVolumeClaim is ReadWriteOnce and SQLite is single-writer: stop the old pod first.
      strategy: props.storageSize === undefined ? kplus.DeploymentStrategy.rollingUpdate({ maxSurge: kplus.PercentOrAbsolute.absolute(1), maxUnavailable: kplus.PercentOrAbsolute.absolute(0) }) : kplus.DeploymentStrategy.recreate(),
      securityContext: restrictedPodSecurityContext(GRAFANA_USER_ID),
      automountServiceAccountToken: false,
    });
    const resources = resolveResources(props.resources, GRAFANA_DEFAULT_RESOURCES);
    const container = this.deployment.addContainer({
      name: 'grafana',
      image: this.image,
      imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
      ports: [{ name: 'http', number: GRAFANA_CONTAINER_PORT }],
      securityContext: restrictedContainerSecurityContext(GRAFANA_USER_ID),
      resources: cpuAndMemory(resources),
      envVariables: grafanaEnvironment({ anonymousAccess: props.anonymousAccess ?? false, rootUrl: props.rootUrl }),
      // /api/health checks the database too; liveness only asks whether the server still accepts
      // connections, so a slow database makes the pod unready instead of restarting it.
      readiness: kplus.Probe.fromHttpGet('/api/health', { port: GRAFANA_CONTAINER_PORT, periodSeconds: Duration.seconds(10), timeoutSeconds: Duration.seconds(5), failureThreshold: 3 }),
      liveness: kplus.Probe.fromTcpSocket({ port: GRAFANA_CONTAINER_PORT, periodSeconds: Duration.seconds(20), timeoutSeconds: Duration.seconds(5), failureThreshold: 6 }),
      // Database migrations run before the server listens: up to 5 minutes on an upgrade.
      startup: kplus.Probe.fromTcpSocket({ port: GRAFANA_CONTAINER_PORT, periodSeconds: Duration.seconds(10), failureThreshold: 30 }),
    });
    setEphemeralStorage(this.deployment, container, resources.ephemeralStorage);
    container.mount(DATA_DIR, storage);
    container.mount('/tmp', kplus.Volume.fromEmptyDir(this, 'tmp-volume', 'tmp'));
    container.mount(`${PROVISIONING_DIR}/datasources`, kplus.Volume.fromConfigMap(this, 'datasources-volume', this.datasourcesConfigMap, { name: 'datasources' }), { readOnly: true });
    container.mount(`${PROVISIONING_DIR}/dashboards`, kplus.Volume.fromConfigMap(this, 'providers-volume', providersConfigMap, { name: 'dashboard-providers' }), { readOnly: true });
    container.mount(ADMIN_SECRET_DIR, secretVolume(this, 'admin-volume', 'admin', { 'admin-user': props.adminUser, 'admin-password': props.adminPassword }), { readOnly: true });
    this.addFolderVolumes();
    restrictPod(this.deployment);
    markForScraping(this.deployment, { port: GRAFANA_CONTAINER_PORT, path: '/metrics' });
    // NetworkPolicies: users reach Grafana only where it is exposed: through its NodePort or load
    // balancer (traffic from outside the cluster: any address), else through the ingress
    // controller's pods. Grafana reaches only Prometheus (plugin installs and update checks are off).
    if (this.expose.external) allowIngressFromAnywhere(this.deployment, [GRAFANA_CONTAINER_PORT]);
    else {
      const names = [props.ingressControllerNamespace ?? 'ingress-nginx'];
      allowIngress(this.deployment, 'ingress-controller', () => kplus.Pods.all(this.deployment, 'ingress-controller-pods', { namespaces: kplus.Namespaces.select(this.deployment, 'ingress-controller-namespace', { names }) }), [GRAFANA_CONTAINER_PORT]);
    }
    if (props.prometheus.workload) allowConnection(this.deployment, props.prometheus.workload, [props.prometheus.port]);
    else allowEgress(this.deployment, 'prometheus', () => everyAddress(this.deployment, 'prometheus-anywhere'), [props.prometheus.port]);

    this.service = new kplus.Service(this, 'service', {
      metadata: { name: baseName, labels: labels('server') },
      type: this.expose.type,
      selector: this.deployment,
      ports: [{ name: 'http', port: this.port, targetPort: GRAFANA_CONTAINER_PORT, nodePort: this.expose.nodePort }],
    });
    this.url = `http://${baseName}.${namespace}.svc:${this.port}`;

    // Late-bound: datasources added after construction (addDatasource) are provisioned too.
    let datasources: string | undefined;
    const renderDatasources = () => (datasources ??= datasourcesYaml(this.datasourceList));
    this.datasourcesConfigMap.addData('datasources.yaml', Lazy.any({ produce: renderDatasources }));
    // Every dashboard, a later system's too, is in the checksum: the pod rolls when one changes.
    rollOnChange(this.deployment, 'provisioning', () => [renderDatasources(), providersYaml(), ...this.dashboards.map((d) => d.json)]);
    applyCommonProps(this, props);
    // Each dashboard's ConfigMap as written, with every label and annotation it ends up with, a later
    // system's dashboard's too: checked once every construct is made, on the rendered objects.
    addRenderedCheck(Chart.of(this), (render) => {
      const problems = this.provisioned.flatMap((p) => sizeProblem(p.dashboard, this.dashboardScope.node.findChild(p.dashboard.id), render) ?? []);
      return problems.length > 0 ? [dashboardError(this, this.dashboardsWhere, problems).message] : [];
    });
    collectMonitoring(this, (monitoring) => {
      if (ownChart(monitoring)) this.collectDashboards(monitoring);
    });
  }

  /** The dashboards provisioned: its folders' files in order, then the files its chart's systems bring, by path; each file once. */
  public get dashboards(): readonly CheckedDashboard[] {
    return this.provisioned.map((p) => p.dashboard);
  }

  /** Grafana folder names (the subfolders of dashboardsDirs and of the files systems bring), sorted. */
  public get folders(): readonly string[] {
    return this.dashboardFolders().flatMap((f) => (f.folder === undefined ? [] : [f.folder]));
  }

  /**
   * Provisions the dashboards a system of its chart made after it brings, as if it had been made
   * before: checked with the others, each file once, its ConfigMap in path order among the brought ones.
   */
  private collectDashboards(monitoring: Monitoring): void {
    const files = monitoring.dashboards.filter((file) => !this.dashboardChecker.has(file));
    if (files.length === 0) return;
    const by = monitoring.node.scope!.node.path;
    const scan = this.dashboardChecker.check(files.map((file) => broughtEntry(file, by)));
    if (scan.problems.length > 0) throw dashboardError(this, this.dashboardsWhere, scan.problems);
    for (const dashboard of scan.dashboards) this.insertDashboard(dashboard);
    this.folderCache = undefined;
    this.addFolderVolumes();
  }

  /**
   * Puts a dashboard a system brought later at its place among the brought ones. Constructs keep
   * their children in the order they are made, and cdk8s writes a chart's objects in that order:
   * so the ConfigMaps after it are made again after it, and the output does not depend on which
   * system was made first.
   */
  private insertDashboard(dashboard: CheckedDashboard): void {
    const at = this.provisioned.findIndex((p) => p.brought !== undefined && p.brought > dashboard.path);
    const following = at < 0 ? [] : this.provisioned.splice(at);
    for (const p of following) this.dashboardScope.node.tryRemoveChild(p.dashboard.id);
    this.provisioned.push({ dashboard, brought: dashboard.path }, ...following);
    const configMap = this.addDashboardConfigMap(dashboard);
    for (const made of [configMap, ...following.map((p) => this.addDashboardConfigMap(p.dashboard))]) applyCommonProps(made, this.commonProps);
  }

  /** The ConfigMap of one dashboard (`<grafana>-dashboard-<id>`). */
  private addDashboardConfigMap(dashboard: CheckedDashboard): kplus.ConfigMap {
    return new kplus.ConfigMap(this.dashboardScope, dashboard.id, {
      metadata: { name: this.dashboardNamePrefix + dashboard.id, labels: this.dashboardLabels },
      data: { [dashboard.fileName]: dashboard.json },
    });
  }

  /** The Grafana folders of the dashboards provisioned so far, each with its volume. */
  private dashboardFolders(): DashboardFolder[] {
    return (this.folderCache ??= dashboardFolders(this.dashboards, (d) => this.dashboardNamePrefix + d.id));
  }

  /**
   * A projected volume and its mount for each folder not given one yet (cdk8s-plus has no projected
   * volumes, so they are patches of the pod spec). The i-th pair holds the i-th folder as it is at
   * synth, so a folder a later system brings takes its place in order.
   */
  private addFolderVolumes(): void {
    for (; this.folderVolumeCount < this.dashboardFolders().length; this.folderVolumeCount++) {
      const i = this.folderVolumeCount;
      addProjectedVolume(this.deployment, () => this.dashboardFolders()[i].volume);
    }
  }

  /** The datasources provisioned so far, Prometheus first. */
  public get datasources(): readonly GrafanaDatasource[] {
    return [...this.datasourceList];
  }

  /**
   * Provisions one more datasource (Loki, Tempo, another Prometheus...). Only one may be the default:
   * Prometheus already is. Dashboards are checked against the datasources known at construction
   * (Prometheus and `additionalDatasources`).
   */
  public addDatasource(datasource: GrafanaDatasource): void {
    const validator = new PropValidator(this, 'Grafana');
    checkDatasource(validator, this.datasourceList, datasource);
    validator.throwIfInvalid();
    this.datasourceList.push(datasource);
  }
}

/** One ValidationError listing every dashboard problem; `where`: the dashboardsDirs, or the systems' dashboards. */
function dashboardError(grafana: Construct, where: string, problems: readonly string[]): ValidationError {
  const count = problems.length === 1 ? '1 dashboard problem' : `${problems.length} dashboard problems`;
  return new ValidationError(`Grafana '${grafana.node.path}': ${count} in ${where} (Grafana would skip or break these at run time):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
}

/** Why client-side `kubectl apply` would refuse a dashboard's ConfigMap as `render` writes it, if it would. */
function sizeProblem(dashboard: CheckedDashboard, configMap: IConstruct, render: RenderObject): string | undefined {
  const object = ApiObject.of(configMap);
  const bytes = lastAppliedAnnotationBytes(render(object));
  if (bytes <= KUBECTL_LAST_APPLIED_LIMIT_BYTES) return undefined;
  return `${dashboard.file}: its ConfigMap ${object.name} would put ${bytes} bytes in kubectl's last-applied-configuration annotation, over the ` +
    `${KUBECTL_LAST_APPLIED_LIMIT_BYTES}-byte limit of client-side 'kubectl apply': split the dashboard into smaller ones, ` +
    "or apply server-side ('kubectl apply --server-side', Argo CD 'ServerSideApply=true')";
}

/**
 * Bytes client-side `kubectl apply` writes into the annotations of `object` (a manifest): its other
 * annotations, plus the last-applied-configuration annotation holding the object as compact JSON
 * the way kubectl encodes it (with an `annotations` map, `<`, `>`, `&` as 6-byte escapes, a final
 * newline).
 * Checked against kubectl 1.32's `create --save-config` output: equal to the byte.
 */
export function lastAppliedAnnotationBytes(object: { readonly metadata?: { readonly annotations?: Record<string, string>; readonly [key: string]: unknown }; readonly data?: unknown; readonly [key: string]: unknown }): number {
  const annotations = object.metadata?.annotations ?? {};
  // The strings of a ConfigMap's data (a dashboard: nearly all of its bytes, the same in every
  // environment) are measured once each: a string's JSON stands in the object's JSON as is, so the
  // object's bytes are those of its JSON with each such string empty ("") plus each string's own.
  const data = isObject(object.data) ? object.data : undefined;
  const strings = Object.values(data ?? {}).filter((value): value is string => typeof value === 'string');
  const emptied = data && { data: Object.fromEntries(Object.entries(data).map(([key, value]) => [key, typeof value === 'string' ? '' : value])) };
  const skeleton = JSON.stringify({ ...object, ...emptied, metadata: { ...object.metadata, annotations } });
  const others = Object.entries(annotations).reduce((sum, [key, value]) => sum + Buffer.byteLength(key) + Buffer.byteLength(value), 0);
  const dataStrings = strings.reduce((sum, text) => sum + jsonStringBytes.get(text, () => kubectlJsonBytes(JSON.stringify(text))) - '""'.length, 0);
  return others + LAST_APPLIED_ANNOTATION.length + kubectlJsonBytes(skeleton) + dataStrings + 1;
}

const jsonStringBytes = new Memo<string, number>(256);

/** Bytes of `json` as kubectl writes it (Go's encoder): `<`, `>`, `&` as 6-byte escapes, U+2028 and U+2029 too. */
function kubectlJsonBytes(json: string): number {
  const goEscapes = json.match(/[<>&]/g)?.length ?? 0;
  const lineSeparators = json.match(/[\u2028\u2029]/g)?.length ?? 0;
  return Buffer.byteLength(json, 'utf8') + 5 * goEscapes + 3 * lineSeparators;
}


function grafanaEnvironment(options: { anonymousAccess: boolean; rootUrl?: string }): Record<string, kplus.EnvValue> {
  const env: Record<string, string> = {
    // The image's entrypoint reads each *__FILE into the variable without the suffix.
    GF_SECURITY_ADMIN_USER__FILE: `${ADMIN_SECRET_DIR}/admin-user`,
    GF_SECURITY_ADMIN_PASSWORD__FILE: `${ADMIN_SECRET_DIR}/admin-password`,
    GF_AUTH_ANONYMOUS_ENABLED: String(options.anonymousAccess),
    ...(options.anonymousAccess ? { GF_AUTH_ANONYMOUS_ORG_ROLE: 'Viewer' } : {}),
    GF_USERS_ALLOW_SIGN_UP: 'false',
    // No calls home and no plugin downloads at start: the pod needs no egress besides Prometheus.
    GF_ANALYTICS_REPORTING_ENABLED: 'false',
    GF_ANALYTICS_CHECK_FOR_UPDATES: 'false',
    GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES: 'false',
    GF_PLUGINS_PREINSTALL_DISABLED: 'true',
    GF_NEWS_NEWS_FEED_ENABLED: 'false',
    ...(options.rootUrl ? { GF_SERVER_ROOT_URL: options.rootUrl } : {}),
  };
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, kplus.EnvValue.fromValue(v)]));
}

/** A Grafana folder of dashboards (undefined: General), and the volume its provider reads. */
interface DashboardFolder {
  readonly folder?: string;
  readonly volume: ProjectedVolume;
}

/**
 * A provider per folder, each reading one projected volume of that folder's ConfigMaps: Grafana's
 * foldersFromFilesStructure does not descend into the symlinked folders of a ConfigMap volume, and
 * per-folder providers give stable folder uids.
 */
function dashboardFolders(dashboards: readonly CheckedDashboard[], configMapName: (dashboard: CheckedDashboard) => string): DashboardFolder[] {
  const named = [...new Set(dashboards.flatMap((d) => (d.folder === undefined ? [] : [d.folder])))].sort();
  const folders = dashboards.some((d) => d.folder === undefined) ? [undefined, ...named] : named;
  return folders.map((folder) => ({
    folder,
    volume: {
      name: folder === undefined ? 'dashboards' : `dashboards-${folder}`,
      mountPath: folder === undefined ? `${DASHBOARDS_DIR}/general` : `${DASHBOARDS_DIR}/folders/${folder}`,
      sources: dashboards.filter((d) => d.folder === folder).map((d) => ({ configMap: { name: configMapName(d), items: [{ key: d.fileName, path: d.fileName }] } })),
    },
  }));
}

interface ProjectedVolume {
  readonly name: string;
  readonly mountPath: string;
  readonly sources: readonly kplus.k8s.VolumeProjection[];
}

/**
 * Mounts a projected volume (here: a folder's dashboard ConfigMaps) read-only in the first container.
 * cdk8s-plus has no projected volumes, so it is added to the pod spec as patches; projected files
 * update in place like any ConfigMap volume's. `volume` is asked for at synth: cdk8s copies each
 * patch value through JSON.stringify when it applies the patches, which calls `toJSON`.
 */
function addProjectedVolume(deployment: kplus.Deployment, volume: () => ProjectedVolume): void {
  const apiObject = ApiObject.of(deployment);
  const atSynth = (render: (v: ProjectedVolume) => unknown) => ({ toJSON: () => render(volume()) });
  apiObject.addJsonPatch(JsonPatch.add('/spec/template/spec/volumes/-', atSynth((v) => ({ name: v.name, projected: { sources: v.sources } }))));
  apiObject.addJsonPatch(JsonPatch.add('/spec/template/spec/containers/0/volumeMounts/-', atSynth((v) => ({ name: v.name, mountPath: v.mountPath, readOnly: true }))));
}
