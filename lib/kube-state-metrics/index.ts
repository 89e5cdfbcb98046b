export {
  KubeStateMetrics, KUBE_STATE_METRICS_IMAGE, KUBE_STATE_METRICS_DEFAULT_RESOURCES, KUBE_STATE_METRICS_RESOURCES, KUBE_STATE_METRICS_DEFAULT_RESOURCES_EXPORTED,
} from './kube-state-metrics';
export type { KubeStateMetricsProps, KubeStateMetricsResource } from './kube-state-metrics';
export { kubeStateMetricsRuleGroup } from './rules';
