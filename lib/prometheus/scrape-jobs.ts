// The cluster's default scrape jobs, after the seed post and the prometheus Helm chart, fixed:
// endpointslice discovery (the endpoints API is deprecated), skip pods that are not running, IPv6
// safe address rewrites, and bearer credentials read from a file at each scrape (token rotation).
import type { INodeExporterEndpoint } from '../core/endpoints';
import { RelabelConfig, ScrapeConfig, ScrapeTlsConfig, ScrapeAuthorization } from './config';

/** Where Kubernetes mounts the service account of a pod that asks for its token. */
const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

const CLUSTER_TLS: ScrapeTlsConfig = { ca_file: `${SERVICE_ACCOUNT_DIR}/ca.crt` };
const SERVICE_ACCOUNT_TOKEN: ScrapeAuthorization = { credentials_file: `${SERVICE_ACCOUNT_DIR}/token` };

/** The Kubernetes API servers: the `kubernetes` Service in `default`, on its https port. */
export function kubernetesApiserversJob(): ScrapeConfig {
  return {
    job_name: 'kubernetes-apiservers',
    scheme: 'https',
    authorization: SERVICE_ACCOUNT_TOKEN,
    tls_config: CLUSTER_TLS,
    kubernetes_sd_configs: [{ role: 'endpointslice', namespaces: { names: ['default'] } }],
    relabel_configs: [
      {
        source_labels: ['__meta_kubernetes_namespace', '__meta_kubernetes_service_name', '__meta_kubernetes_endpointslice_port_name'],
        action: 'keep',
        regex: 'default;kubernetes;https',
      },
    ],
  };
}

/**
 * A node-role job that scrapes each kubelet directly on its HTTPS port (10250, from the Node's
 * status) with the ServiceAccount token, as kube-prometheus does. The kubelet authorizes the token
 * for `nodes/metrics` (/metrics and /metrics/cadvisor); no `nodes/proxy`, which lets a holder run
 * commands in any container of the node. The kubelet's serving certificate is verified against
 * the cluster CA: kubelets need certificates from the cluster's CA (`serverTLSBootstrap: true`).
 */
function kubeletJob(jobName: string, kubeletPath: string): ScrapeConfig {
  return {
    job_name: jobName,
    scheme: 'https',
    metrics_path: kubeletPath,
    authorization: SERVICE_ACCOUNT_TOKEN,
    tls_config: CLUSTER_TLS,
    kubernetes_sd_configs: [{ role: 'node' }],
    relabel_configs: [
      { action: 'labelmap', regex: '__meta_kubernetes_node_label_(.+)' },
      { source_labels: ['__meta_kubernetes_node_name'], target_label: 'node' },
      // The node's name, not host:port: what TargetDown and dashboards name.
      { source_labels: ['__meta_kubernetes_node_name'], target_label: 'instance' },
    ],
  };
}

/** The kubelets' own metrics. */
export function kubernetesNodesJob(): ScrapeConfig {
  return kubeletJob('kubernetes-nodes', '/metrics');
}

/** cAdvisor in each kubelet: per-container CPU, memory and network (`container_*`). */
export function kubernetesCadvisorJob(): ScrapeConfig {
  return kubeletJob('kubernetes-cadvisor', '/metrics/cadvisor');
}

/** The `prometheus.io/scrape|scheme|path|port` annotations, read from pods or services. */
function annotationRelabels(object: 'pod' | 'service'): RelabelConfig[] {
  const annotation = (name: string) => `__meta_kubernetes_${object}_annotation_prometheus_io_${name}`;
  return [
    { source_labels: [annotation('scrape')], action: 'keep', regex: 'true' },
    { source_labels: [annotation('scheme')], action: 'replace', target_label: '__scheme__', regex: '(https?)' },
    { source_labels: [annotation('path')], action: 'replace', target_label: '__metrics_path__', regex: '(.+)' },
  ];
}

/**
 * Pod labels (as labelmap names them) that no series should carry: the controllers' own
 * (`pod-template-hash`, `controller-revision-hash`, `pod-template-generation`, the StatefulSet pod's
 * name and index, which `pod` already says) and cdk8s's selector hash `cdk8s.io/metadata.addr`.
 */
const POD_LABELS_DROPPED = 'pod_template_hash|controller_revision_hash|pod_template_generation|statefulset_kubernetes_io_pod_name|apps_kubernetes_io_pod_index|cdk8s_io_metadata_addr';

/**
 * Pods annotated `prometheus.io/scrape: "true"` (see `markForScraping`), on the annotated port and
 * path, in `namespaces` only. Only running pods: a pending or finished pod has nothing to scrape and
 * would read as down.
 */
export function kubernetesPodsJob(namespaces: readonly string[]): ScrapeConfig {
  return {
    job_name: 'kubernetes-pods',
    kubernetes_sd_configs: [{ role: 'pod', namespaces: { names: namespaces } }],
    relabel_configs: [
      ...annotationRelabels('pod'),
      { source_labels: ['__meta_kubernetes_pod_phase'], action: 'keep', regex: 'Running' },
      // The annotated port on the pod IP; IPv6 addresses need brackets. Every container port of a
      // pod becomes one target, which this rewrite folds into one.
      {
        source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_port', '__meta_kubernetes_pod_ip'],
        action: 'replace',
        regex: '(\\d+);(([A-Fa-f0-9]{1,4}::?){1,7}[A-Fa-f0-9]{1,4})',
        replacement: '[$2]:$1',
        target_label: '__address__',
      },
      {
        source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_port', '__meta_kubernetes_pod_ip'],
        action: 'replace',
        regex: '(\\d+);((([0-9]+?)(\\.|$)){4})',
        replacement: '$2:$1',
        target_label: '__address__',
      },
      { action: 'labelmap', regex: '__meta_kubernetes_pod_label_(.+)' },
      // Not the labels controllers add (new values at every rollout of the same pod: a new series
      // for redis-0's every metric) nor cdk8s's selector hash (app_kubernetes_io_instance says it).
      { action: 'labeldrop', regex: POD_LABELS_DROPPED },
      { source_labels: ['__meta_kubernetes_namespace'], action: 'replace', target_label: 'namespace' },
      { source_labels: ['__meta_kubernetes_pod_name'], action: 'replace', target_label: 'pod' },
      { source_labels: ['__meta_kubernetes_pod_node_name'], action: 'replace', target_label: 'node' },
    ],
  };
}

/** Endpoints of Services annotated `prometheus.io/scrape: "true"` in `namespaces`, by EndpointSlice discovery. */
export function kubernetesServiceEndpointsJob(namespaces: readonly string[]): ScrapeConfig {
  return {
    job_name: 'kubernetes-service-endpoints',
    kubernetes_sd_configs: [{ role: 'endpointslice', namespaces: { names: namespaces } }],
    relabel_configs: [
      ...annotationRelabels('service'),
      {
        source_labels: ['__address__', '__meta_kubernetes_service_annotation_prometheus_io_port'],
        action: 'replace',
        regex: '(.+?)(?::\\d+)?;(\\d+)',
        replacement: '$1:$2',
        target_label: '__address__',
      },
      { action: 'labelmap', regex: '__meta_kubernetes_service_label_(.+)' },
      { source_labels: ['__meta_kubernetes_namespace'], action: 'replace', target_label: 'namespace' },
      { source_labels: ['__meta_kubernetes_service_name'], action: 'replace', target_label: 'service' },
      { source_labels: ['__meta_kubernetes_endpointslice_address_target_name'], action: 'replace', target_label: 'pod' },
    ],
  };
}

/**
 * kube-state-metrics at a fixed address. `honor_labels` keeps the `namespace` and `pod` labels of
 * the objects it reports on, rather than renaming them `exported_*`.
 */
export function kubeStateMetricsJob(target: string): ScrapeConfig {
  return {
    job_name: 'kube-state-metrics',
    honor_labels: true,
    static_configs: [{ targets: [target] }],
  };
}

/**
 * node-exporter's pods, found in its own namespace by their labels (no fixed address: a pod per
 * node, on the node's address since it shares the node's network), each named by its node as the
 * kubelet jobs are: `instance` and `node` are the node's name.
 */
export function nodeExporterJob(nodeExporter: INodeExporterEndpoint): ScrapeConfig {
  const keys = Object.keys(nodeExporter.podLabels).sort();
  return {
    job_name: 'node-exporter',
    kubernetes_sd_configs: [{ role: 'pod', namespaces: { names: [nodeExporter.namespace] } }],
    relabel_configs: [
      {
        source_labels: keys.map((key) => `__meta_kubernetes_pod_label_${key.replace(/[^a-zA-Z0-9_]/g, '_')}`),
        action: 'keep',
        regex: keys.map((key) => nodeExporter.podLabels[key]).join(';'),
      },
      { source_labels: ['__meta_kubernetes_pod_phase'], action: 'keep', regex: 'Running' },
      { source_labels: ['__meta_kubernetes_pod_container_port_number'], action: 'keep', regex: String(nodeExporter.port) },
      { source_labels: ['__meta_kubernetes_pod_node_name'], target_label: 'node' },
      { source_labels: ['__meta_kubernetes_pod_node_name'], target_label: 'instance' },
    ],
  };
}

/** Prometheus scraping itself, inside its own pod. */
export function prometheusSelfJob(port: number): ScrapeConfig {
  return {
    job_name: 'prometheus',
    static_configs: [{ targets: [`localhost:${port}`] }],
  };
}
