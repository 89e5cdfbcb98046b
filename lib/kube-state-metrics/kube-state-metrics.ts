import { Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { addMonitoring, shippedDashboard } from '../core/monitoring';
import { kubeStateMetricsRuleGroup } from './rules';
import { registerConstruct } from '../core/construct';
import { IKubeStateMetricsEndpoint } from '../core/endpoints';
import { imageVersion } from '../core/image';
import { recommendedLabels } from '../core/labels';
import { constructName, instanceName } from '../core/names';
import { allowEgressToAnywhere } from '../core/network';
import { applyCommonProps, chartNamespace, checkCommonProps, checkResources, CommonProps, cpuAndMemory, resolveResources, setEphemeralStorage } from '../core/props';
import { bindClusterRole, createClusterRole, restrictedContainerSecurityContext, restrictedPodSecurityContext, restrictPod } from '../core/security';
import { PropValidator } from '../core/validation';

export const KUBE_STATE_METRICS_IMAGE = 'registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.16.0';
export const KUBE_STATE_METRICS_DEFAULT_RESOURCES = {
  cpu: { request: kplus.Cpu.millis(50), limit: kplus.Cpu.millis(500) },
  memory: { request: Size.mebibytes(64), limit: Size.mebibytes(256) },
  // Logs only.
  ephemeralStorage: { request: Size.mebibytes(64), limit: Size.mebibytes(256) },
} as const;
const KSM_UID = 65534;
const METRICS_PORT = 8080;
const TELEMETRY_PORT = 8081;
/** The API server's ports: the `kubernetes` Service's, and the one it forwards to (NetworkPolicies see the latter on most plugins). */
const API_SERVER_PORTS = [443, 6443];

/**
 * The API group of each resource kube-state-metrics can export (its `--resources` names): its
 * ClusterRole lists and watches exactly the ones it is asked for.
 */
export const KUBE_STATE_METRICS_RESOURCES = {
  certificatesigningrequests: 'certificates.k8s.io',
  configmaps: '',
  cronjobs: 'batch',
  daemonsets: 'apps',
  deployments: 'apps',
  endpointslices: 'discovery.k8s.io',
  horizontalpodautoscalers: 'autoscaling',
  ingresses: 'networking.k8s.io',
  jobs: 'batch',
  leases: 'coordination.k8s.io',
  limitranges: '',
  mutatingwebhookconfigurations: 'admissionregistration.k8s.io',
  namespaces: '',
  networkpolicies: 'networking.k8s.io',
  nodes: '',
  persistentvolumeclaims: '',
  persistentvolumes: '',
  poddisruptionbudgets: 'policy',
  pods: '',
  replicasets: 'apps',
  replicationcontrollers: '',
  resourcequotas: '',
  secrets: '',
  services: '',
  statefulsets: 'apps',
  storageclasses: 'storage.k8s.io',
  validatingwebhookconfigurations: 'admissionregistration.k8s.io',
  volumeattachments: 'storage.k8s.io',
} as const;

export type KubeStateMetricsResource = keyof typeof KUBE_STATE_METRICS_RESOURCES;

/** What the stack's dashboards and rules read, and what on-call needs of workloads: no Secrets or ConfigMaps. */
export const KUBE_STATE_METRICS_DEFAULT_RESOURCES_EXPORTED: readonly KubeStateMetricsResource[] = [
  'cronjobs', 'daemonsets', 'deployments', 'horizontalpodautoscalers', 'jobs', 'namespaces', 'nodes',
  'persistentvolumeclaims', 'poddisruptionbudgets', 'pods', 'replicasets', 'statefulsets',
];

export interface KubeStateMetricsProps extends CommonProps {
  /**
   * The kinds it exports (its `--resources`); its ClusterRole may list and watch these only.
   * @default KUBE_STATE_METRICS_DEFAULT_RESOURCES_EXPORTED (workloads, pods, nodes, namespaces, PVCs, HPAs, PDBs)
   */
  readonly exportedResources?: readonly KubeStateMetricsResource[];
  /**
   * The Service port of the metrics.
   * @default 8080
   */
  readonly port?: number;
  /**
   * Container image.
   * @default KUBE_STATE_METRICS_IMAGE
   */
  readonly image?: string;
  /**
   * Container resources.
   * @default 50m/64Mi requested, 500m/256Mi limit
   */
  readonly resources?: kplus.ContainerResources;
}

/**
 * kube-state-metrics: metrics of the Kubernetes objects (`kube_*`: resource limits and requests,
 * replicas, pod phases), read through a ClusterRole that lists and watches exactly the kinds it
 * exports. Give it to Prometheus (`kubeStateMetrics`), which scrapes its Service.
 */
export class KubeStateMetrics extends Construct implements IKubeStateMetricsEndpoint {
  public readonly service: kplus.Service;
  public readonly deployment: kplus.Deployment;
  public readonly serviceAccount: kplus.ServiceAccount;
  public readonly port: number;
  /** In-cluster host name of the Service. */
  public readonly host: string;
  public readonly image: string;
  /** The kinds exported, sorted. */
  public readonly exportedResources: readonly KubeStateMetricsResource[];

  public get workload(): kplus.Workload {
    return this.deployment;
  }

  /** The container port Prometheus scrapes. */
  public readonly containerPort = METRICS_PORT;

  constructor(scope: Construct, id: string, props: KubeStateMetricsProps = {}) {
    super(scope, id);
    registerConstruct(this);
    this.image = props.image ?? KUBE_STATE_METRICS_IMAGE;
    this.port = props.port ?? METRICS_PORT;
    const exported = props.exportedResources ?? KUBE_STATE_METRICS_DEFAULT_RESOURCES_EXPORTED;
    const resources = resolveResources(props.resources, KUBE_STATE_METRICS_DEFAULT_RESOURCES);

    const v = new PropValidator(this, 'KubeStateMetrics');
    checkCommonProps(v, props);
    checkResources(v, 'resources', resources, props.resources);
    v.pinnedImage('image', this.image);
    v.port('port', this.port);
    if (v.check(exported.length > 0, 'exportedResources', exported, 'at least one kind')) {
      exported.forEach((kind, i) => v.oneOf(`exportedResources[${i}]`, kind, Object.keys(KUBE_STATE_METRICS_RESOURCES) as KubeStateMetricsResource[]));
      v.unique('exportedResources', exported);
    }
    v.throwIfInvalid();
    this.exportedResources = [...exported].sort();

    const name = constructName(this);
    const labels = recommendedLabels({ name: 'kube-state-metrics', instance: instanceName(this), component: 'exporter', version: imageVersion(this.image) });
    const metadata = { name, labels };
    this.serviceAccount = new kplus.ServiceAccount(this, 'service-account', { metadata, automountToken: true });
    this.createClusterRole(labels);

    this.deployment = new kplus.Deployment(this, 'Resource', {
      metadata,
      replicas: 1,
      serviceAccount: this.serviceAccount,
      // It reads the API server: the only reason for the token.
      automountServiceAccountToken: true,
      securityContext: restrictedPodSecurityContext(KSM_UID),
      containers: [{
        name: 'kube-state-metrics',
        image: this.image,
        imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
        args: [`--resources=${this.exportedResources.join(',')}`, `--port=${METRICS_PORT}`, `--telemetry-port=${TELEMETRY_PORT}`],
        ports: [{ name: 'http-metrics', number: METRICS_PORT }, { name: 'telemetry', number: TELEMETRY_PORT }],
        resources: cpuAndMemory(resources),
        // Live while it serves; ready once its informers have synced (upstream's probes).
        liveness: kplus.Probe.fromHttpGet('/livez', { port: METRICS_PORT, periodSeconds: Duration.seconds(10), timeoutSeconds: Duration.seconds(5), failureThreshold: 3, initialDelaySeconds: Duration.seconds(5) }),
        readiness: kplus.Probe.fromHttpGet('/readyz', { port: TELEMETRY_PORT, periodSeconds: Duration.seconds(10), timeoutSeconds: Duration.seconds(5), failureThreshold: 3 }),
        securityContext: restrictedContainerSecurityContext(KSM_UID),
      }],
    });
    setEphemeralStorage(this.deployment, this.deployment.containers[0], resources.ephemeralStorage);
    for (const [key, value] of Object.entries(labels)) this.deployment.podMetadata.addLabel(key, value);
    restrictPod(this.deployment);
    allowEgressToAnywhere(this.deployment, API_SERVER_PORTS);

    this.service = new kplus.Service(this, 'service', {
      metadata,
      selector: this.deployment,
      ports: [{ name: 'http-metrics', port: this.port, targetPort: METRICS_PORT }],
    });
    this.host = `${name}.${chartNamespace(this, 'KubeStateMetrics', 'its host name')}.svc`;
    // Workload alerts, and the pods dashboard: usage (cAdvisor) against the requests and limits it exports.
    addMonitoring(this, { ruleGroups: [kubeStateMetricsRuleGroup()], dashboards: [shippedDashboard('kubernetes/pods.json')] });
    applyCommonProps(this, props);
  }

  private createClusterRole(labels: Readonly<Record<string, string>>): void {
    // One rule per API group, listing exactly the exported kinds of it.
    const byGroup = new Map<string, string[]>();
    for (const kind of this.exportedResources) {
      const group = KUBE_STATE_METRICS_RESOURCES[kind];
      byGroup.set(group, [...(byGroup.get(group) ?? []), kind]);
    }
    const role = createClusterRole(this, labels, [...byGroup.keys()].sort().map((group) => ({ apiGroups: [group], resources: byGroup.get(group)!, verbs: ['list', 'watch'] })));
    bindClusterRole(this, role, labels, this.serviceAccount);
  }
}
