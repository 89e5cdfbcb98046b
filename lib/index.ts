// The public API of cdk8s-platform-stack: everything another team may import.
export * from './environments';
export * from './platform-chart';
export { PropValidator, ValidationError } from './core/validation';
export type { SecretKeyRef } from './core/validation';
export { ServiceExposure, setEphemeralStorage } from './core/props';
export type { CommonProps } from './core/props';
export { parseImage, isPinnedImage, imageVersion } from './core/image';
export type { ImageReference } from './core/image';
export { constructName, clusterScopedName, instanceName } from './core/names';
export { recommendedLabels, ENVIRONMENT_LABEL, PART_OF } from './core/labels';
export {
  restrictedContainerSecurityContext, restrictedPodSecurityContext, restrictPod, restrictedViolations, checkPodSecurity, clusterScoped, POD_SECURITY_ENFORCE_LABEL,
} from './core/security';
export { rollOnChange, contentHash } from './core/rollout';
export { PlatformApp } from './core/manifests';
export { KEEP_ON_PRUNE_ANNOTATIONS } from './core/persistence';
export type { PlatformAppProps, RenderedManifests } from './core/manifests';
export * from './core/endpoints';
export * from './core/scraping';
export { Monitoring, addMonitoring, collectMonitoring, shippedDashboard } from './core/monitoring';
export type { MonitoringProps } from './core/monitoring';
export {
  METRICS_SCRAPER_LABEL, denyAllTrafficExceptDns, allowWithinWorkload, isIsolated, allowIngress, allowEgress, allowConnection, allowIngressFromAnywhere, allowEgressToAnywhere, allowMetricsScrapers, allowScraperEgress, setMetricsScraperNamespaces, everyAddress,
} from './core/network';
export * from './prometheus';
export * from './redis';
export * from './grafana';
export * from './nginx';
export * from './router';
export * from './alertmanager';
export * from './kube-state-metrics';
export * from './node-exporter';
