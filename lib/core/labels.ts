/** The chart-wide name of this product, used for `app.kubernetes.io/part-of`. */
export const PART_OF = 'cdk8s-platform-stack';

/** Label key that carries the environment name (dev, staging, prod) on every object. */
export const ENVIRONMENT_LABEL = 'platform-stack.io/environment';

/**
 * The recommended `app.kubernetes.io/*` labels of one component, for object metadata and pod
 * templates. https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/
 */
export function recommendedLabels(props: { readonly name: string; readonly instance: string; readonly component: string; readonly version?: string }): Record<string, string> {
  return {
    'app.kubernetes.io/name': props.name,
    'app.kubernetes.io/instance': props.instance,
    'app.kubernetes.io/component': props.component,
    ...(props.version ? { 'app.kubernetes.io/version': props.version } : {}),
  };
}
