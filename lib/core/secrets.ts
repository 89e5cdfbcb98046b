import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { SecretKeyRef } from './validation';

/**
 * A volume of keys of one existing Secret, each as a file (`files`: file name to key): how every
 * construct hands a password to its pods, never as an environment variable and never as a value in
 * dist/. Every reference must name the same Secret (check it with `PropValidator.secretKeyRef`).
 */
export function secretVolume(scope: Construct, id: string, volumeName: string, files: Readonly<Record<string, SecretKeyRef>>, options: { readonly defaultMode?: number } = {}): kplus.Volume {
  const refs = Object.values(files);
  const secret = kplus.Secret.fromSecretName(scope, `${id}-secret`, refs[0].name);
  const items = Object.fromEntries(Object.entries(files).map(([file, ref]) => [ref.key, { path: file }]));
  return kplus.Volume.fromSecret(scope, id, secret, { name: volumeName, defaultMode: options.defaultMode, items });
}
