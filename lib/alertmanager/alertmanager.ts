import { ApiObject, Duration, JsonPatch, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { addMonitoring, shippedDashboard } from '../core/monitoring';
import { alertmanagerRuleGroup } from './rules';
import { registerConstruct } from '../core/construct';
import { disruptionBudget } from '../core/disruption';
import { IAlertmanagerEndpoint } from '../core/endpoints';
import { imageVersion } from '../core/image';
import { recommendedLabels } from '../core/labels';
import { constructName, instanceName } from '../core/names';
import { allowEgressToAnywhere, allowWithinWorkload } from '../core/network';
import { applyCommonProps, chartNamespace, checkCommonProps, checkResources, CommonProps, cpuAndMemory, resolveResources, setEphemeralStorage } from '../core/props';
import { rollOnChange } from '../core/rollout';
import { markForScraping } from '../core/scraping';
import { secretVolume } from '../core/secrets';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext, restrictPod } from '../core/security';
import { PropValidator, SecretKeyRef } from '../core/validation';
import { toYaml } from '../core/yaml';
import { formatPrometheusDuration } from '../prometheus/syntax';
import { alertmanagerConfig, InhibitRule, Receiver, receiverSecrets, Route, SECRETS_DIR } from './config';
import { checkAlertmanagerConfig, egressPorts } from './validate';

export const ALERTMANAGER_IMAGE = 'quay.io/prometheus/alertmanager:v0.35.0';
export const ALERTMANAGER_DEFAULT_RESOURCES = {
  cpu: { request: kplus.Cpu.millis(50), limit: kplus.Cpu.millis(500) },
  memory: { request: Size.mebibytes(64), limit: Size.mebibytes(256) },
  // Logs and the data emptyDir (at most 256Mi).
  ephemeralStorage: { request: Size.mebibytes(64), limit: Size.mebibytes(512) },
} as const;
const ALERTMANAGER_UID = 65534;
const HTTP_PORT = 9093;
const CLUSTER_PORT = 9094;
// Config and Secrets in sibling folders: a volume cannot be mounted inside a read-only ConfigMap volume.
const CONFIG_DIR = '/etc/alertmanager/config';
const DATA_DIR = '/alertmanager';

export interface AlertmanagerProps extends CommonProps {
  /** The root of the routing tree: it must name a receiver and has no matchers. */
  readonly route: Route;
  /** Every receiver a route names; credentials are references to existing Secrets, mounted as files. */
  readonly receivers: readonly Receiver[];
  /**
   * Inhibition rules.
   * @default - a firing `severity="critical"` alert mutes `TargetDown` of the same pod (equal `namespace` and `pod`, both set), and warnings of the same alertname and namespace (DEFAULT_INHIBIT_RULES)
   */
  readonly inhibitRules?: readonly InhibitRule[];
  /**
   * Pods; 2 or more form one cluster (gossiped silences and notification log, so each alert is
   * sent once) and get a PodDisruptionBudget.
   * @default 1
   */
  readonly replicas?: number;
  /**
   * How long silences and the notification log are kept.
   * @default Duration.hours(120)
   */
  readonly retention?: Duration;
  /**
   * The Service port of the HTTP API.
   * @default 9093
   */
  readonly port?: number;
  /**
   * Container image.
   * @default ALERTMANAGER_IMAGE
   */
  readonly image?: string;
  /**
   * Container resources.
   * @default 50m/64Mi requested, 500m/256Mi limit
   */
  readonly resources?: kplus.ContainerResources;
}

/**
 * The default inhibition, in kube-prometheus's spirit: a critical alert mutes
 * - TargetDown of the same pod (RedisDown or NginxDown say more than "its scrape failed"); only
 *   TargetDown: another warning about the pod (KubePodCrashLooping, RedisMemoryNearMax) may be the
 *   cause on call needs. Both sides must carry `pod`: Alertmanager's `equal` counts a label missing
 *   on both sides as equal, so without `pod=~".+"` a critical alert without `pod` would mute every
 *   TargetDown without it;
 * - the warnings of the same alertname and namespace (kube-prometheus's rule: no shipped alert has
 *   two severities, a team's may).
 */
export const DEFAULT_INHIBIT_RULES: readonly InhibitRule[] = [
  { source_matchers: ['severity="critical"', 'pod=~".+"'], target_matchers: ['alertname="TargetDown"', 'pod=~".+"'], equal: ['namespace', 'pod'] },
  { source_matchers: ['severity="critical"'], target_matchers: ['severity="warning"'], equal: ['alertname', 'namespace'] },
];

/**
 * Alertmanager: routes Prometheus's alerts to receivers (webhook, Slack, email, PagerDuty), with
 * inhibition; a StatefulSet behind a headless Service so replicas find each other as peers.
 * Wire a Prometheus to it with `prometheus.addAlertmanager(alertmanager)`.
 */
export class Alertmanager extends Construct implements IAlertmanagerEndpoint {
  /** The client Service (the HTTP API and UI). */
  public readonly service: kplus.Service;
  /** The headless Service: stable pod names for peers and for Prometheus. */
  public readonly headlessService: kplus.Service;
  /** The StatefulSet (construct id `Resource`). */
  public readonly statefulSet: kplus.StatefulSet;
  public readonly port: number;
  /** The container port of the HTTP API. */
  public readonly containerPort = HTTP_PORT;
  public readonly replicas: number;
  /** `host:port` of each pod, for Prometheus: every replica gets every alert. */
  public readonly podAddresses: readonly string[];
  /** alertmanager.yml as mounted. */
  public readonly configText: string;
  public readonly image: string;

  public get workload(): kplus.Workload {
    return this.statefulSet;
  }

  constructor(scope: Construct, id: string, props: AlertmanagerProps) {
    super(scope, id);
    registerConstruct(this);
    this.image = props.image ?? ALERTMANAGER_IMAGE;
    this.port = props.port ?? HTTP_PORT;
    this.replicas = props.replicas ?? 1;
    const retention = props.retention ?? Duration.hours(120);
    const inhibitRules = props.inhibitRules ?? DEFAULT_INHIBIT_RULES;
    const resources = resolveResources(props.resources, ALERTMANAGER_DEFAULT_RESOURCES);

    const v = new PropValidator(this, 'Alertmanager');
    checkCommonProps(v, props);
    checkResources(v, 'resources', resources, props.resources);
    v.pinnedImage('image', this.image);
    v.port('port', this.port);
    v.integer('replicas', this.replicas, 1, 9);
    const retentionText = formatPrometheusDuration(retention);
    v.check(retentionText !== undefined && retention.toSeconds({ integral: false }) >= 60, 'retention', retentionText ?? retention.toHumanString(), 'a Duration of at least 1 minute');
    checkAlertmanagerConfig(v, props.route, props.receivers, inhibitRules);
    v.throwIfInvalid();

    const name = constructName(this);
    const namespace = chartNamespace(this, 'Alertmanager', 'its pod addresses');
    const labels = recommendedLabels({ name: 'alertmanager', instance: instanceName(this), component: 'alerting', version: imageVersion(this.image) });
    this.configText = toYaml(alertmanagerConfig(props.route, props.receivers, inhibitRules));
    const configMap = new kplus.ConfigMap(this, 'config', { metadata: { name, labels }, data: { 'alertmanager.yml': this.configText } });

    const headlessName = constructName(this, 'cluster');
    this.headlessService = new kplus.Service(this, 'headless', {
      metadata: { name: headlessName, labels },
      clusterIP: 'None',
      ports: [{ name: 'http', port: HTTP_PORT, targetPort: HTTP_PORT }, { name: 'cluster', port: CLUSTER_PORT, targetPort: CLUSTER_PORT }],
    });
    // Peers must find each other before they are ready (readiness waits for the cluster to settle).
    ApiObject.of(this.headlessService).addJsonPatch(JsonPatch.add('/spec/publishNotReadyAddresses', true));
    const podHost = (i: number) => `${name}-${i}.${headlessName}.${namespace}.svc`;
    this.podAddresses = Array.from({ length: this.replicas }, (_, i) => `${podHost(i)}:${HTTP_PORT}`);

    this.statefulSet = new kplus.StatefulSet(this, 'Resource', {
      metadata: { name, labels },
      service: this.headlessService,
      replicas: this.replicas,
      // Peers start together: none waits for another to be ready.
      podManagementPolicy: kplus.PodManagementPolicy.PARALLEL,
      securityContext: restrictedPodSecurityContext(ALERTMANAGER_UID),
      automountServiceAccountToken: false,
    });
    const workload = this.statefulSet;
    Object.entries(labels).forEach(([key, value]) => workload.podMetadata.addLabel(key, value));

    const clusterArgs = this.replicas > 1
      ? [`--cluster.listen-address=0.0.0.0:${CLUSTER_PORT}`, ...Array.from({ length: this.replicas }, (_, i) => `--cluster.peer=${podHost(i)}:${CLUSTER_PORT}`)]
      : ['--cluster.listen-address='];
    const container = workload.addContainer({
      name: 'alertmanager',
      image: this.image,
      imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
      args: [
        `--config.file=${CONFIG_DIR}/alertmanager.yml`,
        `--storage.path=${DATA_DIR}`,
        `--data.retention=${retentionText}`,
        `--web.listen-address=:${HTTP_PORT}`,
        ...clusterArgs,
      ],
      ports: [{ name: 'http', number: HTTP_PORT }, ...(this.replicas > 1 ? [{ name: 'cluster', number: CLUSTER_PORT }] : [])],
      securityContext: restrictedContainerSecurityContext(ALERTMANAGER_UID),
      resources: cpuAndMemory(resources),
      readiness: kplus.Probe.fromHttpGet('/-/ready', { port: HTTP_PORT, periodSeconds: Duration.seconds(5), timeoutSeconds: Duration.seconds(3), failureThreshold: 3 }),
      liveness: kplus.Probe.fromHttpGet('/-/healthy', { port: HTTP_PORT, periodSeconds: Duration.seconds(15), timeoutSeconds: Duration.seconds(5), failureThreshold: 4 }),
    });
    setEphemeralStorage(workload, container, resources.ephemeralStorage);
    container.mount(CONFIG_DIR, kplus.Volume.fromConfigMap(this, 'config-volume', configMap, { name: 'config' }), { readOnly: true });
    container.mount(DATA_DIR, kplus.Volume.fromEmptyDir(this, 'data-volume', 'data', { sizeLimit: Size.mebibytes(256) }));
    // One volume per Secret, mounted at <SECRETS_DIR>/<secret>/: the *_file paths of the config.
    const bySecret = new Map<string, Record<string, SecretKeyRef>>();
    for (const ref of receiverSecrets(props.receivers)) bySecret.set(ref.name, { ...bySecret.get(ref.name), [ref.key]: ref });
    [...bySecret.keys()].sort().forEach((secret, i) => {
      container.mount(`${SECRETS_DIR}/${secret}`, secretVolume(this, `secret-${secret}`, `secret-${i}`, bySecret.get(secret)!, { defaultMode: 0o440 }), { readOnly: true });
    });
    restrictPod(workload);
    rollOnChange(workload, 'config', this.configText);

    this.service = new kplus.Service(this, 'service', {
      metadata: { name: constructName(this, 'api'), labels },
      selector: workload,
      ports: [{ name: 'http', port: this.port, targetPort: HTTP_PORT }],
    });
    this.headlessService.select(workload);
    markForScraping(workload, { port: HTTP_PORT, path: '/metrics' });
    // Receivers are outside the cluster (Slack, PagerDuty, SMTP) or anywhere in it (webhooks): only their ports.
    const ports = egressPorts(props.receivers);
    if (ports.length) allowEgressToAnywhere(workload, ports);
    if (this.replicas > 1) {
      allowWithinWorkload(workload, 'peers', CLUSTER_PORT);
      disruptionBudget(this, 'disruption-budget', workload, { labels });
    }
    // Whether alerts reach people: its alerts and its dashboard.
    addMonitoring(this, { ruleGroups: [alertmanagerRuleGroup()], dashboards: [shippedDashboard('platform/alertmanager.json')] });
    applyCommonProps(this, props);
  }
}
