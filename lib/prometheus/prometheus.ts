import { Duration, Lazy, Size, SizeRoundingBehavior } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { KEEP_ON_PRUNE_ANNOTATIONS } from '../core/persistence';
import { Construct } from 'constructs';
import type { PrometheusRuleSpecGroups } from '../../imports/prometheusrule-monitoring.coreos.com';
import { IAlertmanagerEndpoint, IKubeStateMetricsEndpoint, INodeExporterEndpoint, IPrometheusEndpoint } from '../core/endpoints';
import { registerConstruct } from '../core/construct';
import { addMonitoring, collectMonitoring, Monitoring, shippedDashboard } from '../core/monitoring';
import { imageVersion } from '../core/image';
import { recommendedLabels } from '../core/labels';
import { clusterScopedName, constructName, instanceName } from '../core/names';
import { applyCommonProps, bytesOf, chartNamespace, checkCommonProps, checkResources, CommonProps, cpuAndMemory, FullResources, resolveResources, ServiceExposure, setEphemeralStorage } from '../core/props';
import { allowConnection, allowEgress, allowScraperEgress, allowIngress, allowIngressFromAnywhere, METRICS_SCRAPER_LABEL } from '../core/network';
import { rollOnChange } from '../core/rollout';
import { bindClusterRole, createClusterRole, restrictedContainerSecurityContext, restrictedPodSecurityContext, restrictPod, serviceAccountSubject } from '../core/security';
import { PropValidator, ValidationError } from '../core/validation';
import { toYaml as yamlText } from '../core/yaml';
import { PrometheusGlobalConfig, PrometheusConfig, ScrapeConfig } from './config';
import { isAlertingRule, platformRuleGroup, RuleGroup } from './rules';
import {
  kubeStateMetricsJob,
  kubernetesApiserversJob,
  kubernetesCadvisorJob,
  kubernetesNodesJob,
  kubernetesPodsJob,
  kubernetesServiceEndpointsJob,
  nodeExporterJob,
  prometheusSelfJob,
} from './scrape-jobs';
import { PrometheusStorage } from './storage';
import { formatPrometheusDuration, formatPrometheusSize } from './syntax';
import { checkDuration, checkRuleGroup, checkScrapeJob } from './validate';

/** The official image; the tests run promtool and prometheus built at this same version (`npm run engines`). */
export const PROMETHEUS_IMAGE = 'quay.io/prometheus/prometheus:v3.16.0';
/** `nobody`: the user the official image runs as. */
const PROMETHEUS_UID = 65534;
/** The port Prometheus listens on inside its pod. */
const CONTAINER_PORT = 9090;
const CONFIG_DIR = '/etc/prometheus';
const CONFIG_FILE = 'prometheus.yml';
const DATA_DIR = '/prometheus';
/** Rule files sit beside prometheus.yml (one ConfigMap, one mount); the glob is relative to it. */
const RULE_FILE_SUFFIX = '.rules.yml';

/** Props of a Prometheus. */
export interface PrometheusProps extends CommonProps {
  /**
   * Container image, pinned to a version.
   * @default PROMETHEUS_IMAGE (quay.io/prometheus/prometheus:v3.16.0)
   */
  readonly image?: string;
  /**
   * How often every target is scraped.
   * @default Duration.seconds(30)
   */
  readonly scrapeInterval?: Duration;
  /**
   * How long a scrape may take; at most the scrape interval.
   * @default - 10s, or the scrape interval if shorter
   */
  readonly scrapeTimeout?: Duration;
  /**
   * How often rules are evaluated.
   * @default - the scrape interval
   */
  readonly evaluationInterval?: Duration;
  /**
   * Labels added to every series and alert that leaves this Prometheus.
   * @default - none
   */
  readonly externalLabels?: Readonly<Record<string, string>>;
  /**
   * How long samples are kept (`--storage.tsdb.retention.time`).
   * @default Duration.days(15)
   */
  readonly retention?: Duration;
  /**
   * Most the TSDB may occupy before the oldest blocks are deleted (`--storage.tsdb.retention.size`).
   * @default - 85% of the storage size when it has one (the TSDB must never fill its volume), else no limit
   */
  readonly retentionSize?: Size;
  /**
   * Where the TSDB lives.
   * @default PrometheusStorage.emptyDir()
   */
  readonly storage?: PrometheusStorage;
  /**
   * CPU and memory of the Prometheus container.
   * @default - requests 250m CPU / 512Mi memory, limits 1 CPU / 1Gi memory
   */
  readonly resources?: kplus.ContainerResources;
  /**
   * Port of the Service.
   * @default 9090
   */
  readonly port?: number;
  /**
   * How the Service is exposed; the seed used `ServiceExposure.nodePort(30030)`.
   * @default ServiceExposure.clusterIp()
   */
  readonly expose?: ServiceExposure;
  /**
   * Namespaces whose pods may query the HTTP API where this chart declares default-deny: other
   * apps' clients (a team's Grafana wired with `prometheusEndpoint(url)`).
   * @default - only the clients wired to this construct (Grafana in this app)
   */
  readonly clientNamespaces?: readonly string[];
  /**
   * Namespaces, besides its own, whose annotated pods and Services this Prometheus discovers and
   * scrapes (a Prometheus shared by several teams). It gets read access to pods, Services and
   * EndpointSlices in each of them (a Role per namespace), and nowhere else.
   * @default [] - its own namespace only
   */
  readonly scrapeNamespaces?: readonly string[];
  /**
   * Metrics ports of targets in its scrape namespaces that this app does not mark for scraping
   * (another app's workloads, Services annotated by hand): its egress opens them in each scrape
   * namespace, besides the ports marked in this app (`markForScraping`, the constructs).
   * @default - none: a scrape namespace where nothing in this app is marked is reachable on any port
   */
  readonly scrapePorts?: readonly number[];
  /**
   * kube-state-metrics to scrape (the KubeStateMetrics construct): the `kube-state-metrics` job
   * targets its Service, and Prometheus is let through to its pods.
   * @default - none: no job
   */
  readonly kubeStateMetrics?: IKubeStateMetricsEndpoint;
  /**
   * node-exporter to scrape (the NodeExporter construct): the `node-exporter` job discovers its pods
   * in its namespace (a Role there: pods list/watch) and names each target by its node; Prometheus
   * is let through to every node's address on its port.
   * @default - none: no job
   */
  readonly nodeExporter?: INodeExporterEndpoint;
  /**
   * Alertmanagers to send alerts to (the Alertmanager construct); more with `addAlertmanager()`.
   * @default - none: alerts are evaluated, and shown in the UI, but sent nowhere
   */
  readonly alertmanagers?: readonly IAlertmanagerEndpoint[];
  /**
   * Scrape jobs in addition to the default ones; `addScrapeJob` adds more later.
   * @default - none
   */
  readonly scrapeJobs?: readonly ScrapeConfig[];
  /**
   * Ship its own rule group, `platform` (targets down, config reload, rule failures, pod CPU near
   * its limit). The other systems bring their own groups (Redis `redis`, the router `router`, ...),
   * collected from every construct of the app in a namespace it scrapes (see `addMonitoring`).
   * @default true
   */
  readonly defaultRules?: boolean;
  /**
   * Rule groups in addition to the default ones; `addRuleGroup` adds more later.
   * @default - none
   */
  readonly ruleGroups?: readonly RuleGroup[];
  /**
   * Also emit a PrometheusRule with every rule group and a ServiceMonitor for this Prometheus, for a
   * cluster that runs prometheus-operator (its CRDs must be installed).
   * @default false
   */
  readonly prometheusOperator?: boolean;
  /**
   * Labels on the PrometheusRule and ServiceMonitor, for the operator's rule and monitor selectors
   * (kube-prometheus-stack selects `release: <its release name>`).
   * @default - none
   */
  readonly prometheusOperatorLabels?: Readonly<Record<string, string>>;
}

/** Resources of the Prometheus container, each part overridable by `resources`. */
export const PROMETHEUS_DEFAULT_RESOURCES = {
  cpu: { request: kplus.Cpu.millis(250), limit: kplus.Cpu.units(1) },
  memory: { request: Size.mebibytes(512), limit: Size.gibibytes(1) },
  // Logs only: the TSDB on a PersistentVolumeClaim does not count.
  ephemeralStorage: { request: Size.mebibytes(64), limit: Size.mebibytes(256) },
} as const;

/**
 * The default resources for a storage: a TSDB on an emptyDir counts against the pod's ephemeral
 * storage, so the limit covers its sizeLimit (plus the logs' 256Mi), or 8Gi when it has none.
 */
export function prometheusDefaultResources(storage: PrometheusStorage): FullResources {
  if (storage.persistent) return PROMETHEUS_DEFAULT_RESOURCES;
  const limit = storage.size
    ? Size.mebibytes(Math.ceil(bytesOf(storage.size) / 1024 ** 2) + 256)
    : Size.gibibytes(8);
  return { ...PROMETHEUS_DEFAULT_RESOURCES, ephemeralStorage: { request: storage.size ? Size.mebibytes(64) : Size.gibibytes(1), limit } };
}

/**
 * Prometheus for one cluster: a least-privilege service account, a scrape config built from a typed
 * model (API servers, kubelets, cAdvisor, annotated pods and services, kube-state-metrics, itself),
 * rule files, a Deployment that rolls on config change, and a Service.
 */
export class Prometheus extends Construct implements IPrometheusEndpoint {
  /** The Service in front of Prometheus. */
  public readonly service: kplus.Service;
  /** The Service port of the HTTP API. */
  /** Namespaces whose pods and Services it discovers: its own first, then `scrapeNamespaces`. */
  public readonly scrapeNamespaces: readonly string[];
  public readonly port: number;
  /** In-cluster URL of the HTTP API. */
  public readonly url: string;
  /** Name shared by every object of this Prometheus; cluster-scoped ones are unique by its chart prefix. */
  public readonly name: string;
  /** The Prometheus Deployment (one replica; construct id `Resource`). */
  public readonly deployment: kplus.Deployment;

  /** The pods behind `service` (IPrometheusEndpoint): clients are let through NetworkPolicies to these. */
  public get workload(): kplus.Workload {
    return this.deployment;
  }
  /** The service account whose token Prometheus uses for discovery and scrapes. */
  public readonly serviceAccount: kplus.ServiceAccount;
  /** The ConfigMap holding prometheus.yml and the rule files. */
  public readonly configMap: kplus.ConfigMap;
  /** Container image in use. */
  public readonly image: string;
  /** Global scrape interval. */
  public readonly scrapeInterval: Duration;
  /** Global scrape timeout. */
  public readonly scrapeTimeout: Duration;
  /** Global rule evaluation interval. */
  public readonly evaluationInterval: Duration;
  /** Retention time of the TSDB. */
  public readonly retention: Duration;
  /** Retention size of the TSDB, if limited. */
  public readonly retentionSize?: Size;
  /** Where the TSDB lives. */
  public readonly storage: PrometheusStorage;
  /** How the Service is exposed. */
  public readonly expose: ServiceExposure;

  private readonly externalLabels: Readonly<Record<string, string>>;
  private readonly jobs: ScrapeConfig[] = [];
  private readonly groups: RuleGroup[] = [];
  private readonly ruleFiles = new Map<string, string>();
  private readonly alertmanagers: IAlertmanagerEndpoint[] = [];

  constructor(scope: Construct, id: string, props: PrometheusProps = {}) {
    super(scope, id);
    registerConstruct(this);
    this.image = props.image ?? PROMETHEUS_IMAGE;
    this.scrapeInterval = props.scrapeInterval ?? Duration.seconds(30);
    const intervalMs = this.scrapeInterval.toMilliseconds({ integral: false });
    this.scrapeTimeout = props.scrapeTimeout ?? (intervalMs < 10_000 ? this.scrapeInterval : Duration.seconds(10));
    this.evaluationInterval = props.evaluationInterval ?? this.scrapeInterval;
    this.retention = props.retention ?? Duration.days(15);
    this.storage = props.storage ?? PrometheusStorage.emptyDir();
    const storageBytes = this.storage.size ? this.storage.size.toKibibytes() * 1024 : undefined;
    this.retentionSize = props.retentionSize ?? (storageBytes ? Size.mebibytes(Math.floor((storageBytes * 0.85) / 1024 ** 2)) : undefined);
    this.port = props.port ?? 9090;
    this.expose = props.expose ?? ServiceExposure.clusterIp();
    this.externalLabels = props.externalLabels ?? {};

    const v = new PropValidator(this, 'Prometheus');
    checkCommonProps(v, props);
    const resources = resolveResources(props.resources, prometheusDefaultResources(this.storage));
    checkResources(v, 'resources', resources, props.resources);
    v.pinnedImage('image', this.image);
    const globalIntervalMs = checkDuration(v, 'scrapeInterval', this.scrapeInterval);
    const globalTimeoutMs = checkDuration(v, 'scrapeTimeout', this.scrapeTimeout);
    if (globalIntervalMs !== undefined && globalTimeoutMs !== undefined && globalTimeoutMs > globalIntervalMs) {
      v.fail('scrapeTimeout', formatPrometheusDuration(this.scrapeTimeout), `at most scrapeInterval (${formatPrometheusDuration(this.scrapeInterval)})`);
    }
    // Defaulted from scrapeInterval, it would only repeat that error.
    if (props.evaluationInterval !== undefined) checkDuration(v, 'evaluationInterval', this.evaluationInterval);
    checkDuration(v, 'retention', this.retention);
    if (this.retentionSize !== undefined) {
      const bytes = this.retentionSize.toKibibytes({ rounding: SizeRoundingBehavior.NONE }) * 1024;
      if (v.check(Number.isInteger(bytes) && bytes > 0, 'retentionSize', this.retentionSize.asString(), 'a whole number of bytes, greater than 0') && storageBytes !== undefined) {
        v.check(bytes <= storageBytes, 'retentionSize', this.retentionSize.asString(), `at most the storage size (${storageBytes / 1024 ** 3}GiB)`);
      }
    }
    if (this.storage.storageClassName !== undefined) v.storageClassName('storage.storageClassName', this.storage.storageClassName);
    if (this.storage.size !== undefined) v.check(this.storage.size.toKibibytes() > 0, 'storage.size', `${this.storage.size.toKibibytes()}Ki`, 'greater than 0');
    v.port('port', this.port);
    (props.clientNamespaces ?? []).forEach((name, i) => v.dnsLabel(`clientNamespaces[${i}]`, name));
    (props.scrapeNamespaces ?? []).forEach((name, i) => v.dnsLabel(`scrapeNamespaces[${i}]`, name));
    if (props.scrapeNamespaces) v.unique('scrapeNamespaces', props.scrapeNamespaces);
    (props.scrapePorts ?? []).forEach((port, i) => v.port(`scrapePorts[${i}]`, port));
    const ownNamespace = chartNamespace(this, 'Prometheus', 'the namespace it discovers');
    this.scrapeNamespaces = [ownNamespace, ...(props.scrapeNamespaces ?? []).filter((name) => name !== ownNamespace)];
    for (const name of Object.keys(this.externalLabels)) v.check(/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name), 'externalLabels', name, 'label names matching [a-zA-Z_][a-zA-Z0-9_]*');

    const kubeStateMetrics = props.kubeStateMetrics !== undefined ? kubeStateMetricsJob(`${props.kubeStateMetrics.host}:${props.kubeStateMetrics.port}`) : undefined;
    if (kubeStateMetrics) checkScrapeJob(v, 'kubeStateMetrics', kubeStateMetrics, globalIntervalMs, globalTimeoutMs);
    const jobs = [
      kubernetesApiserversJob(),
      kubernetesNodesJob(),
      kubernetesCadvisorJob(),
      kubernetesPodsJob(this.scrapeNamespaces),
      kubernetesServiceEndpointsJob(this.scrapeNamespaces),
      ...(kubeStateMetrics ? [kubeStateMetrics] : []),
      ...(props.nodeExporter ? [nodeExporterJob(props.nodeExporter)] : []),
      prometheusSelfJob(CONTAINER_PORT),
    ];
    (props.scrapeJobs ?? []).forEach((job, i) => checkScrapeJob(v, `scrapeJobs[${i}]`, job, globalIntervalMs, globalTimeoutMs));
    jobs.push(...(props.scrapeJobs ?? []));
    v.unique('scrapeJobs[].job_name (including the default jobs)', jobs.map((job) => job.job_name));

    const groups = [...(props.ruleGroups ?? [])];
    (props.ruleGroups ?? []).forEach((group, i) => checkRuleGroup(v, `ruleGroups[${i}]`, group));
    v.unique('ruleGroups[].name', groups.map((group) => group.name));
    v.throwIfInvalid();
    this.jobs.push(...jobs);
    this.groups.push(...groups);

    // Every object takes the construct's name, `<chart>-<id>` (dev-prometheus).
    this.name = constructName(this);
    const labels = recommendedLabels({ name: 'prometheus', instance: instanceName(this), component: 'monitoring', version: imageVersion(this.image) });
    const metadata = { name: this.name, labels };
    this.service = new kplus.Service(this, 'service', {
      metadata,
      type: this.expose.type,
      ports: [{ name: 'http', port: this.port, targetPort: CONTAINER_PORT, nodePort: this.expose.nodePort }],
    });
    this.url = `http://${this.name}.${chartNamespace(this, 'Prometheus', 'its url')}.svc:${this.port}`;

    this.serviceAccount = new kplus.ServiceAccount(this, 'service-account', { metadata, automountToken: true });
    this.createClusterRole(metadata, props.nodeExporter);

    this.configMap = new kplus.ConfigMap(this, 'config', { metadata });
    // Late-bound: jobs added after construction (addScrapeJob) are in prometheus.yml; rule files are added as groups are.
    let config: string | undefined;
    const renderConfig = () => (config ??= this.renderConfig());
    this.configMap.addData(CONFIG_FILE, Lazy.any({ produce: renderConfig }));
    const configVolume = kplus.Volume.fromConfigMap(this, 'config-volume', this.configMap, { name: 'config' });
    const dataVolume = this.storage.persistent
      ? kplus.Volume.fromPersistentVolumeClaim(this, 'data-volume', new kplus.PersistentVolumeClaim(this, 'data', {
        // The TSDB: a GitOps prune or app deletion must not take it.
        metadata: { ...metadata, annotations: KEEP_ON_PRUNE_ANNOTATIONS },
        storage: this.storage.size,
        storageClassName: this.storage.storageClassName,
        accessModes: [kplus.PersistentVolumeAccessMode.READ_WRITE_ONCE],
      }), { name: 'data' })
      : kplus.Volume.fromEmptyDir(this, 'data-volume', 'data', { sizeLimit: this.storage.size });

    this.deployment = new kplus.Deployment(this, 'Resource', {
      metadata,
      replicas: 1,
      // One TSDB, one writer: the old pod must release the volume (and the TSDB lock) first.
      strategy: kplus.DeploymentStrategy.recreate(),
      serviceAccount: this.serviceAccount,
      // Kubernetes discovery and kubelet scrapes need its token (kube-state-metrics is the stack's other pod with one).
      automountServiceAccountToken: true,
      securityContext: restrictedPodSecurityContext(PROMETHEUS_UID),
      // Time to write the head block out on shutdown rather than replay the WAL at start.
      terminationGracePeriod: Duration.minutes(2),
      containers: [{
        name: 'prometheus',
        image: this.image,
        imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
        args: this.args(),
        ports: [{ name: 'http', number: CONTAINER_PORT }],
        resources: cpuAndMemory(resources),
        // Ready once the TSDB is loaded and rules can run; until then the Service sends nothing.
        readiness: kplus.Probe.fromHttpGet('/-/ready', { port: CONTAINER_PORT, periodSeconds: Duration.seconds(5), timeoutSeconds: Duration.seconds(4), failureThreshold: 3 }),
        // Healthy answers as soon as the process serves HTTP (also during WAL replay): restart only a
        // process hung for 2.5 minutes, never one that is busy loading a large TSDB.
        liveness: kplus.Probe.fromHttpGet('/-/healthy', { port: CONTAINER_PORT, periodSeconds: Duration.seconds(15), timeoutSeconds: Duration.seconds(10), failureThreshold: 10 }),
        securityContext: restrictedContainerSecurityContext(PROMETHEUS_UID),
        volumeMounts: [
          { path: CONFIG_DIR, volume: configVolume, readOnly: true },
          { path: DATA_DIR, volume: dataVolume },
        ],
      }],
    });
    setEphemeralStorage(this.deployment, this.deployment.containers[0], resources.ephemeralStorage);
    for (const [key, value] of Object.entries(labels)) this.deployment.podMetadata.addLabel(key, value);
    restrictPod(this.deployment);
    this.service.select(this.deployment);
    // NetworkPolicies: scrape the pods of the namespaces it discovers on their metrics ports, the kubelets and the API
    // server (and kube-state-metrics); scraped workloads let in the scrapers of their chart's
    // scraper namespaces (see markForScraping, setMetricsScraperNamespaces).
    this.deployment.podMetadata.addLabel(METRICS_SCRAPER_LABEL, 'true');
    allowScraperEgress(this.deployment, this.scrapeNamespaces, kubeStateMetricsTarget(props.kubeStateMetrics), props.scrapePorts);
    if (this.expose.external) allowIngressFromAnywhere(this.deployment, [CONTAINER_PORT]);
    if (props.clientNamespaces?.length) {
      const names = [...props.clientNamespaces];
      allowIngress(this.deployment, 'client-namespaces', () => kplus.Pods.all(this.deployment, 'client-pods', { namespaces: kplus.Namespaces.select(this.deployment, 'client-namespaces', { names }) }), [CONTAINER_PORT]);
    }
    for (const group of this.groups) this.addRuleFile(group);
    // Its own alerts, as every system brings its own; then the groups of every system of the app
    // in a namespace it scrapes, made before or after it.
    // Prometheus is a Go program too: the Go runtime dashboard comes with it (and with monitorGoService).
    addMonitoring(this, { ruleGroups: props.defaultRules ?? true ? [platformRuleGroup()] : [], dashboards: [shippedDashboard('platform/go-runtime.json')] });
    collectMonitoring(this, (monitoring) => this.collectRuleGroups(monitoring));
    for (const alertmanager of props.alertmanagers ?? []) this.addAlertmanager(alertmanager);
    const ksm = props.kubeStateMetrics;
    if (ksm?.workload && ksm.containerPort) allowConnection(this.deployment, ksm.workload, [ksm.containerPort]);
    // node-exporter shares each node's network: its targets are node addresses, as the kubelets'.
    const nodeExporter = props.nodeExporter;
    if (nodeExporter) allowEgress(this.deployment, 'node-exporters', () => kplus.NetworkPolicyIpBlock.anyIpv4(this.deployment, 'node-exporter-ips'), [nodeExporter.port]);
    // By file name: the order the systems were made in does not roll the pod (the ConfigMap's keys are sorted too).
    rollOnChange(this.deployment, 'config', () => [renderConfig(), ...this.groups.map(ruleFileName).sort().flatMap((file) => [file, this.ruleFiles.get(file.slice(0, -RULE_FILE_SUFFIX.length))!])]);

    if (props.prometheusOperator) this.createOperatorResources(props.prometheusOperatorLabels ?? {});
    applyCommonProps(this, props);
  }

  /** Adds a scrape job; it fails at once on a bad or duplicate job. */
  public addScrapeJob(job: ScrapeConfig): void {
    const v = new PropValidator(this, 'Prometheus');
    const prop = `addScrapeJob(${JSON.stringify(job.job_name)})`;
    checkScrapeJob(v, prop, job, this.scrapeInterval.toMilliseconds(), this.scrapeTimeout.toMilliseconds());
    v.check(!this.jobs.some((existing) => existing.job_name === job.job_name), `${prop}.job_name`, job.job_name, `unique (jobs: ${this.jobs.map((j) => j.job_name).join(', ')})`);
    v.throwIfInvalid();
    this.jobs.push(job);
  }

  /** Adds a rule group, rendered to its own rule file; it fails at once on a bad or duplicate group. */
  public addRuleGroup(group: RuleGroup): void {
    const v = new PropValidator(this, 'Prometheus');
    const prop = `addRuleGroup(${JSON.stringify(group.name)})`;
    checkRuleGroup(v, prop, group);
    v.check(!this.groups.some((existing) => existing.name === group.name), `${prop}.name`, group.name, `unique (groups: ${this.groups.map((g) => g.name).join(', ')})`);
    v.throwIfInvalid();
    this.groups.push(group);
    this.addRuleFile(group);
  }

  /**
   * Adds the rule groups of a system in a namespace it scrapes. Two systems of one kind (two Redis)
   * bring the same group once; another group of the same name fails, naming both.
   */
  private collectRuleGroups(monitoring: Monitoring): void {
    if (monitoring.namespace === undefined || !this.scrapeNamespaces.includes(monitoring.namespace)) return;
    for (const group of monitoring.ruleGroups) {
      const existing = this.groups.find((g) => g.name === group.name);
      if (existing && JSON.stringify(existing) === JSON.stringify(group)) continue;
      if (existing) {
        throw new ValidationError(`Prometheus '${this.node.path}': the rule group '${group.name}' of '${monitoring.node.scope!.node.path}' must have a name of its own, got one a different group already has (groups: ${this.groups.map((g) => g.name).join(', ')})`);
      }
      const v = new PropValidator(monitoring.node.scope!, 'addMonitoring');
      checkRuleGroup(v, `ruleGroups[${monitoring.ruleGroups.indexOf(group)}]`, group);
      v.throwIfInvalid();
      this.groups.push(group);
      this.addRuleFile(group);
    }
  }

  /** Sends alerts to every pod of `alertmanager` (listed in prometheus.yml), and lets them through NetworkPolicies. */
  public addAlertmanager(alertmanager: IAlertmanagerEndpoint): void {
    this.alertmanagers.push(alertmanager);
    allowConnection(this.deployment, alertmanager.workload, [alertmanager.containerPort]);
  }

  /** Names of the scrape jobs, in config order. */
  public get scrapeJobNames(): string[] {
    return this.jobs.map((job) => job.job_name);
  }

  /** The rule groups, in file order. */
  public get ruleGroups(): readonly RuleGroup[] {
    return [...this.groups];
  }

  /** prometheus.yml as a typed object. */
  public get config(): PrometheusConfig {
    const global: PrometheusGlobalConfig = {
      scrape_interval: formatPrometheusDuration(this.scrapeInterval)!,
      scrape_timeout: formatPrometheusDuration(this.scrapeTimeout)!,
      evaluation_interval: formatPrometheusDuration(this.evaluationInterval)!,
      ...(Object.keys(this.externalLabels).length > 0 ? { external_labels: this.externalLabels } : {}),
    };
    const targets = this.alertmanagers.flatMap((a) => a.podAddresses);
    const alerting = targets.length ? { alerting: { alertmanagers: [{ static_configs: [{ targets }] }] } } : {};
    return { global, rule_files: [`*${RULE_FILE_SUFFIX}`], scrape_configs: [...this.jobs], ...alerting };
  }

  /** The text of prometheus.yml. */
  public renderConfig(): string {
    return toYaml(this.config);
  }

  /** The rule files, by file name (`<group>.rules.yml`, beside prometheus.yml). */
  public renderRuleFiles(): Record<string, string> {
    return Object.fromEntries(this.groups.map((group) => [ruleFileName(group), toYaml({ groups: [group] })]));
  }

  /** Puts a group's rule file into the ConfigMap. */
  private addRuleFile(group: RuleGroup): void {
    const text = toYaml({ groups: [group] });
    this.ruleFiles.set(group.name, text);
    this.configMap.addData(ruleFileName(group), text);
  }

  private args(): string[] {
    return [
      `--config.file=${CONFIG_DIR}/${CONFIG_FILE}`,
      `--storage.tsdb.path=${DATA_DIR}`,
      `--storage.tsdb.retention.time=${formatPrometheusDuration(this.retention)}`,
      ...(this.retentionSize ? [`--storage.tsdb.retention.size=${formatPrometheusSize(this.retentionSize)}`] : []),
      `--web.listen-address=:${CONTAINER_PORT}`,
    ];
  }

  /**
   * RBAC for exactly what the jobs use. Cluster-wide (a ClusterRole): nodes (list, watch: node
   * discovery of the kubelet jobs), `nodes/metrics` (get: the kubelet authorizes /metrics and
   * /metrics/cadvisor with it) and the API server's /metrics. Per namespace (a Role and RoleBinding
   * in each): pods, Services and EndpointSlices (list, watch) where the pod and service-endpoint
   * jobs discover (`scrapeNamespaces`), and in `default` for the API server job (the
   * `kubernetes` Service's EndpointSlice; endpointslice discovery watches Services and pods too).
   */
  private createClusterRole(metadata: { name: string; labels: Record<string, string> }, nodeExporter: INodeExporterEndpoint | undefined): void {
    const discover = ['list', 'watch'];
    const role = createClusterRole(this, metadata.labels, [
      { apiGroups: [''], resources: ['nodes'], verbs: discover },
      { apiGroups: [''], resources: ['nodes/metrics'], verbs: ['get'] },
      { nonResourceUrLs: ['/metrics'], verbs: ['get'] },
    ]);
    const discoveryRules = [
      { apiGroups: [''], resources: ['pods', 'services'], verbs: discover },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: discover },
    ];
    // A Role in one namespace, bound to its ServiceAccount.
    const grant = (ids: { role: string; binding: string }, namespaced: typeof metadata & { namespace: string }, rules: kplus.k8s.PolicyRule[]) => {
      const role = new kplus.k8s.KubeRole(this, ids.role, { metadata: namespaced, rules });
      new kplus.k8s.KubeRoleBinding(this, ids.binding, {
        metadata: namespaced,
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.name },
        subjects: [serviceAccountSubject(this.serviceAccount)],
      });
    };
    const namespaces = [...this.scrapeNamespaces, ...(this.scrapeNamespaces.includes('default') ? [] : ['default'])];
    for (const namespace of namespaces) {
      // In its own namespace the objects keep the construct's name; elsewhere the name says whose they are.
      const own = namespace === this.scrapeNamespaces[0];
      const ids = own ? { role: 'discovery-role', binding: 'discovery-role-binding' } : { role: `discovery-role-${namespace}`, binding: `discovery-role-binding-${namespace}` };
      grant(ids, { ...metadata, name: own ? metadata.name : clusterScopedName(this), namespace }, discoveryRules);
    }
    // node-exporter's own namespace: its pods only, for the node-exporter job. Named for the
    // namespace it reads in (dist/ names files by kind and name only).
    if (nodeExporter && !namespaces.includes(nodeExporter.namespace)) {
      grant({ role: 'node-exporter-discovery-role', binding: 'node-exporter-discovery-role-binding' }, { ...metadata, name: `${clusterScopedName(this)}-node-exporter`, namespace: nodeExporter.namespace }, [{ apiGroups: [''], resources: ['pods'], verbs: discover }]);
    }
    bindClusterRole(this, role, metadata.labels, this.serviceAccount);
  }

  private createOperatorResources(labels: Readonly<Record<string, string>>): void {
    // Loaded only when asked for: the generated CRD bindings are large, and synth speed matters.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const operatorRules = require('../../imports/prometheusrule-monitoring.coreos.com') as typeof import('../../imports/prometheusrule-monitoring.coreos.com');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const operatorMonitors = require('../../imports/servicemonitor-monitoring.coreos.com') as typeof import('../../imports/servicemonitor-monitoring.coreos.com');
    const metadata = { name: this.name, labels: { ...recommendedLabels({ name: 'prometheus', instance: this.name, component: 'monitoring' }), ...labels } };
    new operatorMonitors.ServiceMonitor(this, 'service-monitor', {
      metadata,
      spec: {
        selector: { matchLabels: { 'app.kubernetes.io/instance': this.name, 'app.kubernetes.io/name': 'prometheus' } },
        endpoints: [{ port: 'http', path: '/metrics' }],
      },
    });
    // Lazy: groups added after construction are included.
    const groups = Lazy.any({
      produce: (): PrometheusRuleSpecGroups[] => this.groups.map((group) => ({
        name: group.name,
        interval: group.interval,
        rules: group.rules.map((rule) => ({
          ...(isAlertingRule(rule)
            ? { alert: rule.alert, for: rule.for, keepFiringFor: rule.keep_firing_for, annotations: rule.annotations }
            : { record: rule.record }),
          expr: operatorRules.PrometheusRuleSpecGroupsRulesExpr.fromString(rule.expr),
          labels: rule.labels,
        })),
      })),
    }) as unknown as PrometheusRuleSpecGroups[];
    new operatorRules.PrometheusRule(this, 'prometheus-rule', { metadata, spec: { groups } });
  }

}

/** A group's rule file, beside prometheus.yml. */
function ruleFileName(group: RuleGroup): string {
  return `${group.name}${RULE_FILE_SUFFIX}`;
}

/** A YAML comment, then a blank line, above every rendered file. */
const CONFIG_HEADER = '# Generated by cdk8s-platform-stack (lib/prometheus): edit the construct, not this file.\n\n';

/** YAML as Prometheus reads it: block style, long PromQL kept on one line, a do-not-edit header. */
function toYaml(value: unknown): string {
  // YAML 1.1-safe, as Prometheus' parser (go-yaml v2) reads it: strings such as `on` or `yes` get
  // quoted instead of turning into booleans. No anchors for repeated objects (the shared TLS
  // settings): every job reads complete on its own. Each distinct file is serialized once per
  // process (lib/core/yaml.ts): every environment ships the same rule groups.
  return CONFIG_HEADER + yamlText(value);
}

/**
 * Prometheus's egress to a kube-state-metrics of another app, known only by its Service address
 * (`<service>.<namespace>.svc`): that namespace's pods on its port. The construct needs none: its
 * pods are let through by `allowConnection`.
 */
function kubeStateMetricsTarget(endpoint: IKubeStateMetricsEndpoint | undefined): { namespace?: string; port: number }[] {
  if (endpoint === undefined || endpoint.workload) return [];
  const service = /^[a-z0-9-]+\.([a-z0-9-]+)(\.svc(\.[a-z0-9.-]+)?)?$/.exec(endpoint.host);
  return [{ namespace: service?.[1], port: endpoint.port }];
}
