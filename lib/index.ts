// The public API of cdk8s-platform-stack: everything another team may import.
export * from './environments';
export * from './platform-chart';
export { PropValidator, ValidationError } from './core/validation';
export { recommendedLabels, ENVIRONMENT_LABEL, PART_OF } from './core/labels';
export { restrictedContainerSecurityContext, restrictedPodSecurityContext, restrictPod, clusterScoped } from './core/security';
export { rollOnChange, contentHash } from './core/rollout';
export { PlatformApp } from './core/manifests';
export type { PlatformAppProps, RenderedManifests } from './core/manifests';
export * from './core/endpoints';
export * from './core/scraping';
export * from './core/network';
export * from './prometheus';
export * from './redis';
export * from './grafana';
export * from './nginx';
export * from './router';
