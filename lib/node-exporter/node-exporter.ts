import { ApiObject, Duration, JsonPatch, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { registerConstruct } from '../core/construct';
import { INodeExporterEndpoint } from '../core/endpoints';
import { imageVersion } from '../core/image';
import { recommendedLabels } from '../core/labels';
import { constructName, instanceName } from '../core/names';
import { addMonitoring, shippedDashboard } from '../core/monitoring';
import { allowOnlyScrapersInNamespace } from '../core/network';
import { nodeExporterRuleGroup } from './rules';
import { applyCommonProps, chartNamespace, checkCommonProps, checkResources, CommonProps, cpuAndMemory, resolveResources, setEphemeralStorage } from '../core/props';
import { clusterScoped, podSecurityNamespaceLabels, restrictedContainerSecurityContext, restrictedPodSecurityContext, restrictPod } from '../core/security';
import { PropValidator } from '../core/validation';

/** The official image; the live tests run node_exporter built at this same version. */
export const NODE_EXPORTER_IMAGE = 'quay.io/prometheus/node-exporter:v1.12.1';
export const NODE_EXPORTER_DEFAULT_RESOURCES = {
  cpu: { request: kplus.Cpu.millis(20), limit: kplus.Cpu.millis(250) },
  memory: { request: Size.mebibytes(32), limit: Size.mebibytes(128) },
  // Logs only.
  ephemeralStorage: { request: Size.mebibytes(32), limit: Size.mebibytes(128) },
} as const;
/** `nobody`: the user the official image runs as. */
const NODE_EXPORTER_UID = 65534;
const DEFAULT_PORT = 9100;
/** Where the host's filesystems are mounted (read-only) in the container, as the prometheus-node-exporter chart does. */
const HOST_MOUNTS = [
  { name: 'proc', hostPath: '/proc', path: '/host/proc', flag: '--path.procfs' },
  { name: 'sys', hostPath: '/sys', path: '/host/sys', flag: '--path.sysfs' },
  { name: 'root', hostPath: '/', path: '/host/root', flag: '--path.rootfs' },
] as const;
// Pseudo and container filesystems: the node's own disks are what the filesystem alerts watch (kube-prometheus's lists).
const MOUNT_POINTS_EXCLUDE = '^/(dev|proc|sys|run/k3s/containerd/.+|var/lib/docker/.+|var/lib/kubelet/pods/.+)($|/)';
const NETWORK_DEVICES_EXCLUDE = '^(veth.*|[a-f0-9]{15})$';

/**
 * The Pod Security level node-exporter's namespace enforces, and why: it reads the node, not a
 * container. "baseline" already forbids what it needs: the host's network namespace (the node's
 * interfaces and sockets in node_network_*), its PID namespace (every process in node_processes_*),
 * and hostPath volumes of /proc, /sys and / (CPU, memory, disks, filesystems). Everything else of
 * "restricted" it still meets: non-root, read-only root filesystem and mounts, no privilege
 * escalation, every capability dropped, RuntimeDefault seccomp.
 */
export const NODE_EXPORTER_POD_SECURITY = {
  level: 'privileged',
  reason: "node-exporter reports the node itself: it needs the host's network and PID namespaces and read-only hostPath mounts of /proc, /sys and /, which Pod Security \"baseline\" and \"restricted\" forbid; its containers still meet the rest of \"restricted\" (non-root, read-only root filesystem, no privilege escalation, every capability dropped, RuntimeDefault seccomp)",
} as const;

export interface NodeExporterProps extends CommonProps {
  /**
   * The namespace of its own (created by the construct) whose Pod Security level admits host access;
   * nothing else should run in it.
   * @default `<chart namespace>-node-exporter`
   */
  readonly namespace?: string;
  /**
   * The port it listens on, on every node's address (it shares the node's network).
   * @default 9100
   */
  readonly port?: number;
  /**
   * Container image.
   * @default NODE_EXPORTER_IMAGE
   */
  readonly image?: string;
  /**
   * Container resources.
   * @default 20m/32Mi requested, 250m/128Mi limit
   */
  readonly resources?: kplus.ContainerResources;
}

/**
 * node-exporter: the node's CPU, memory, disks, filesystems and network (`node_*`), one pod per
 * node (a DaemonSet tolerating every taint). It needs host access, so it runs in a namespace of its
 * own at Pod Security "privileged" (see NODE_EXPORTER_POD_SECURITY); give it to Prometheus
 * (`nodeExporter`), whose `node-exporter` job discovers its pods there.
 */
export class NodeExporter extends Construct implements INodeExporterEndpoint {
  public readonly daemonSet: kplus.DaemonSet;
  public readonly serviceAccount: kplus.ServiceAccount;
  /** Its own namespace. */
  public readonly namespace: string;
  /** The port on every node's address. */
  public readonly port: number;
  public readonly image: string;
  /** The labels of its pods, which the scrape job keeps. */
  public readonly podLabels: Readonly<Record<string, string>>;

  public get workload(): kplus.Workload {
    return this.daemonSet;
  }

  constructor(scope: Construct, id: string, props: NodeExporterProps = {}) {
    super(scope, id);
    registerConstruct(this);
    this.image = props.image ?? NODE_EXPORTER_IMAGE;
    this.port = props.port ?? DEFAULT_PORT;
    const resources = resolveResources(props.resources, NODE_EXPORTER_DEFAULT_RESOURCES);

    const v = new PropValidator(this, 'NodeExporter');
    checkCommonProps(v, props);
    checkResources(v, 'resources', resources, props.resources);
    v.pinnedImage('image', this.image);
    v.port('port', this.port);
    const chartNs = chartNamespace(this, 'NodeExporter', 'its namespace');
    this.namespace = props.namespace ?? `${chartNs}-node-exporter`;
    if (v.dnsLabel('namespace', this.namespace)) {
      v.check(this.namespace !== chartNs, 'namespace', this.namespace, `a namespace of its own, not the chart's ('${chartNs}', whose Pod Security level it would have to lower)`);
    }
    v.throwIfInvalid();

    const name = constructName(this);
    const labels = recommendedLabels({ name: 'node-exporter', instance: instanceName(this), component: 'exporter', version: imageVersion(this.image) });
    this.podLabels = { 'app.kubernetes.io/name': labels['app.kubernetes.io/name'], 'app.kubernetes.io/instance': labels['app.kubernetes.io/instance'] };
    const metadata = { name, labels, namespace: this.namespace };

    // The exception, explicit and narrow: this namespace only, for these pods only.
    const namespace = new kplus.Namespace(this, 'namespace', {
      metadata: {
        name: this.namespace,
        labels: { ...labels, ...podSecurityNamespaceLabels(NODE_EXPORTER_POD_SECURITY.level) },
        annotations: { 'platform-stack.io/pod-security-reason': NODE_EXPORTER_POD_SECURITY.reason },
      },
    });
    clusterScoped(namespace);

    // It calls no API: no token.
    this.serviceAccount = new kplus.ServiceAccount(this, 'service-account', { metadata, automountToken: false });
    const volumes = HOST_MOUNTS.map((m) => ({ ...m, volume: kplus.Volume.fromHostPath(this, `${m.name}-volume`, m.name, { path: m.hostPath }) }));
    this.daemonSet = new kplus.DaemonSet(this, 'Resource', {
      metadata,
      serviceAccount: this.serviceAccount,
      automountServiceAccountToken: false,
      hostNetwork: true,
      securityContext: restrictedPodSecurityContext(NODE_EXPORTER_UID),
      containers: [{
        name: 'node-exporter',
        image: this.image,
        imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
        args: [
          ...HOST_MOUNTS.map((m) => `${m.flag}=${m.path}`),
          `--path.udev.data=${HOST_MOUNTS[2].path}/run/udev/data`,
          `--web.listen-address=:${this.port}`,
          `--collector.filesystem.mount-points-exclude=${MOUNT_POINTS_EXCLUDE}`,
          `--collector.netclass.ignored-devices=${NETWORK_DEVICES_EXCLUDE}`,
          `--collector.netdev.device-exclude=${NETWORK_DEVICES_EXCLUDE}`,
        ],
        ports: [{ name: 'metrics', number: this.port }],
        resources: cpuAndMemory(resources),
        // Live while it listens; ready while it answers HTTP.
        liveness: kplus.Probe.fromTcpSocket({ port: this.port, periodSeconds: Duration.seconds(10), timeoutSeconds: Duration.seconds(5), failureThreshold: 3 }),
        readiness: kplus.Probe.fromHttpGet('/', { port: this.port, periodSeconds: Duration.seconds(10), timeoutSeconds: Duration.seconds(5), failureThreshold: 3 }),
        securityContext: restrictedContainerSecurityContext(NODE_EXPORTER_UID),
        volumeMounts: volumes.map((m) => ({ path: m.path, volume: m.volume, readOnly: true, propagation: kplus.MountPropagation.HOST_TO_CONTAINER })),
      }],
    });
    setEphemeralStorage(this.daemonSet, this.daemonSet.containers[0], resources.ephemeralStorage);
    for (const [key, value] of Object.entries(labels)) this.daemonSet.podMetadata.addLabel(key, value);
    // cdk8s-plus has no hostPID. The patch names the L1 binding's field (`hostPid`), which renders
    // it as `hostPID` (the binding re-maps the patched object and drops names it does not know).
    ApiObject.of(this.daemonSet).addJsonPatch(JsonPatch.add('/spec/template/spec/hostPid', true));
    restrictPod(this.daemonSet);
    // Where the chart declares default-deny: its scrapers in, DNS out, nothing else. Most network
    // plugins do not apply NetworkPolicy to host-network pods: README.md, "Scraping".
    allowOnlyScrapersInNamespace(this.daemonSet, this.namespace, this.daemonSet.matchLabels, this.port);
    // Its alerts and the nodes dashboard, for the Prometheus that scrapes its chart's namespace and the chart's Grafana.
    addMonitoring(this, { ruleGroups: [nodeExporterRuleGroup()], dashboards: [shippedDashboard('kubernetes/nodes.json')] });
    // A pod on every node, tainted or not (as upstream), unless told otherwise.
    applyCommonProps(this, { ...props, tolerations: props.tolerations ?? [{ operator: 'Exists' }] });
  }
}
