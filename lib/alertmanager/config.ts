// A typed model of alertmanager.yml (https://prometheus.io/docs/alerting/0.35/configuration/),
// field names as in the file. Credentials are `SecretKeyRef`s of existing Secrets: the construct
// mounts each one as a file and writes the matching `*_file` field, never the value.
import { SecretKeyRef } from '../core/validation';

/** A webhook receiver: Alertmanager POSTs the alert group as JSON. */
export interface WebhookConfig {
  /** The URL, when it holds no secret. Exactly one of `url` and `url_file`. */
  readonly url?: string;
  /** The Secret key holding the URL (a token in it). */
  readonly url_file?: SecretKeyRef;
  /** @default true */
  readonly send_resolved?: boolean;
  /** Most alerts in one message; 0 for all. @default 0 */
  readonly max_alerts?: number;
}

/** A Slack channel, through an incoming webhook URL (a secret). */
export interface SlackConfig {
  /** The Secret key holding the incoming webhook URL. */
  readonly api_url_file: SecretKeyRef;
  /** `#channel` or `@user`. */
  readonly channel: string;
  /** @default false */
  readonly send_resolved?: boolean;
  /** Go template of the title. @default Alertmanager's */
  readonly title?: string;
  /** Go template of the text. @default Alertmanager's */
  readonly text?: string;
}

/** An email, through an SMTP smarthost. */
export interface EmailConfig {
  readonly to: string;
  readonly from: string;
  /** `host:port` of the SMTP server. */
  readonly smarthost: string;
  readonly auth_username?: string;
  /** The Secret key holding the SMTP password. */
  readonly auth_password_file?: SecretKeyRef;
  /** @default true (STARTTLS) */
  readonly require_tls?: boolean;
  /** @default false */
  readonly send_resolved?: boolean;
}

/** A PagerDuty service, through its Events API v2 integration key (a secret). */
export interface PagerdutyConfig {
  /** The Secret key holding the integration (routing) key. */
  readonly routing_key_file: SecretKeyRef;
  /** Go template of the severity. @default Alertmanager's ('error') */
  readonly severity?: string;
  /** @default true */
  readonly send_resolved?: boolean;
}

/** A named receiver: where a route sends alerts. One with no integration drops them (a "null" receiver). */
export interface Receiver {
  readonly name: string;
  readonly webhook_configs?: readonly WebhookConfig[];
  readonly slack_configs?: readonly SlackConfig[];
  readonly email_configs?: readonly EmailConfig[];
  readonly pagerduty_configs?: readonly PagerdutyConfig[];
}

/** A node of the routing tree. */
export interface Route {
  /** Receiver name; the root route must have one, children inherit their parent's. */
  readonly receiver?: string;
  /** Labels alerts are grouped by; `['...']` groups by every label. */
  readonly group_by?: readonly string[];
  /** Matchers such as `severity="critical"` or `namespace=~"platform-.*"`; the root route has none. */
  readonly matchers?: readonly string[];
  /** Keep matching siblings after this route matched. @default false */
  readonly continue?: boolean;
  /** Prometheus durations (`30s`, `5m`, `4h`). */
  readonly group_wait?: string;
  readonly group_interval?: string;
  readonly repeat_interval?: string;
  readonly routes?: readonly Route[];
}

/** Mutes alerts matching `target_matchers` while an alert matching `source_matchers` fires, with equal `equal` labels. */
export interface InhibitRule {
  readonly source_matchers: readonly string[];
  readonly target_matchers: readonly string[];
  readonly equal?: readonly string[];
}

/** The four secret fields of the model, by integration. */
export const SECRET_FIELDS = {
  webhook_configs: ['url_file'],
  slack_configs: ['api_url_file'],
  email_configs: ['auth_password_file'],
  pagerduty_configs: ['routing_key_file'],
} as const;

export type IntegrationKind = keyof typeof SECRET_FIELDS;
export const INTEGRATION_KINDS = Object.keys(SECRET_FIELDS) as IntegrationKind[];

/** Where a Secret key is mounted in the pod: one folder per Secret. */
export function secretFilePath(ref: SecretKeyRef): string {
  return `${SECRETS_DIR}/${ref.name}/${ref.key}`;
}

export const SECRETS_DIR = '/etc/alertmanager/secrets';

/** Every SecretKeyRef of the receivers. */
export function receiverSecrets(receivers: readonly Receiver[]): SecretKeyRef[] {
  const refs: SecretKeyRef[] = [];
  for (const receiver of receivers) {
    for (const kind of INTEGRATION_KINDS) {
      for (const integration of receiver[kind] ?? []) {
        for (const field of SECRET_FIELDS[kind]) {
          const ref = (integration as unknown as Record<string, SecretKeyRef | undefined>)[field];
          if (ref) refs.push(ref);
        }
      }
    }
  }
  return refs;
}

/** alertmanager.yml as an object: each SecretKeyRef becomes the path it is mounted at. */
export function alertmanagerConfig(route: Route, receivers: readonly Receiver[], inhibitRules: readonly InhibitRule[]): Record<string, unknown> {
  const rendered = receivers.map((receiver) => {
    const out: Record<string, unknown> = { name: receiver.name };
    for (const kind of INTEGRATION_KINDS) {
      const list = receiver[kind];
      if (!list?.length) continue;
      out[kind] = list.map((integration) => Object.fromEntries(Object.entries(integration).map(([field, value]) => [
        field,
        (SECRET_FIELDS[kind] as readonly string[]).includes(field) ? secretFilePath(value as SecretKeyRef) : value,
      ])));
    }
    return out;
  });
  return { route, receivers: rendered, ...(inhibitRules.length ? { inhibit_rules: inhibitRules } : {}) };
}
