// Finds secret material in synthesized manifests: Secrets with values, literal values in
// password-like env vars, and passwords written into config files.
import { K8sObject } from '../support/synth';
import { podOf } from './checks';

const SECRET_NAME = /pass(word)?|passwd|secret|token|api[-_]?key|credential|private[-_]?key/i;
// `key = value` / `key: value` / `directive value` in a config file...
const CONFIG_ASSIGNMENT = /^\s*["']?([A-Za-z0-9_.-]+)["']?\s*(?:[:=]\s*|\s+)(.+?)\s*$/gm;
// ...where the key names a secret: a whole word of it (not server_tokens, not proxy_pass).
const SECRET_KEY = /(^|[_.-])(password|passwd|secret|token|api[-_]?key|credentials?)($|[_.-])|^(requirepass|masterauth|masteruser)$/i;
// Values that point at a secret rather than hold one: files, env references, placeholders.
const REFERENCE = /^(["']?)(\/|\$|\{|<|file:|env:|\$__file|\$__env)|^["']?["']?$|^(null|~|false|true)$/i;
const PRIVATE_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;

export function findSecretMaterial(objects: readonly K8sObject[]): string[] {
  const found: string[] = [];
  for (const object of objects) {
    const where = `${object.kind}/${object.metadata.name}`;
    if (object.kind === 'Secret' && (Object.keys(object.data ?? {}).length || Object.keys(object.stringData ?? {}).length)) found.push(`${where}: a Secret with values`);
    const pod = podOf(object);
    for (const c of pod ? [...(pod.spec.containers ?? []), ...(pod.spec.initContainers ?? [])] : []) {
      for (const env of c.env ?? []) {
        if (SECRET_NAME.test(env.name) && env.value !== undefined && !REFERENCE.test(String(env.value))) found.push(`${where}: container ${c.name} env ${env.name} holds a literal value`);
      }
      for (const arg of [...(c.command ?? []), ...(c.args ?? [])]) {
        const flag = /--?(?:requirepass|password|pass|token)[= ](\S+)/i.exec(arg);
        if (flag && !REFERENCE.test(flag[1])) found.push(`${where}: container ${c.name} passes a literal password on the command line`);
      }
    }
    if (object.kind === 'ConfigMap') {
      for (const [key, text] of Object.entries<string>(object.data ?? {})) {
        if (PRIVATE_KEY.test(text)) found.push(`${where}: ${key} holds a private key`);
        for (const match of text.matchAll(CONFIG_ASSIGNMENT)) {
          const [, name, value] = match;
          if (!SECRET_KEY.test(name)) continue;
          // A JSON/YAML structure that continues on the next lines, or a reference, is not a value.
          if (/^[{[]$/.test(value) || REFERENCE.test(value)) continue;
          if (/_file$|_path$|File$|Path$/.test(name)) continue;
          found.push(`${where}: ${key} sets ${name}`);
        }
      }
    }
  }
  return found;
}
