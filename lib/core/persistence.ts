/**
 * What Argo CD and Flux honour to never delete an object: Argo CD neither prunes it (gone from Git)
 * nor deletes it with the app; Flux's kustomize-controller does not garbage-collect it. Data volumes
 * carry it, so a GitOps prune or an app deletion cannot take the data with it.
 */
export const KEEP_ON_PRUNE_ANNOTATIONS: Readonly<Record<string, string>> = {
  'argocd.argoproj.io/sync-options': 'Prune=false,Delete=false',
  'kustomize.toolkit.fluxcd.io/prune': 'disabled',
};

