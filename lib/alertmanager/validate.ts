// Checks of the alertmanager.yml model that Alertmanager would otherwise only report at start
// (amtool check-config in the tests proves the rendered file valid).
import { PropValidator } from '../core/validation';
import { INTEGRATION_KINDS, InhibitRule, Receiver, Route, SECRET_FIELDS } from './config';
import type { SecretKeyRef } from '../core/validation';

/** A label matcher as Alertmanager parses it: name, operator, value (quoted or bare). */
const MATCHER = /^\s*[a-zA-Z_][a-zA-Z0-9_]*\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|[^"\s{}]*)\s*$/;
const DURATION = /^(\d+(ms|s|m|h|d|w|y))+$/;
const RECEIVER_NAME = /^\S(.*\S)?$/;

export function checkAlertmanagerConfig(v: PropValidator, route: Route, receivers: readonly Receiver[], inhibitRules: readonly InhibitRule[]): void {
  const names = receivers.map((r) => r.name);
  receivers.forEach((receiver, i) => {
    v.check(typeof receiver.name === 'string' && RECEIVER_NAME.test(receiver.name), `receivers[${i}].name`, receiver.name, 'a non-empty name without leading or trailing spaces');
    (receiver.webhook_configs ?? []).forEach((w, j) => {
      const prop = `receivers[${i}].webhook_configs[${j}]`;
      if (v.check((w.url === undefined) !== (w.url_file === undefined), `${prop}.url`, w.url, 'set, or url_file instead (exactly one)') && w.url !== undefined) {
        v.check(/^https?:\/\/[^\s/]+(\/\S*)?$/.test(w.url), `${prop}.url`, w.url, 'an http:// or https:// URL');
      }
      if (w.max_alerts !== undefined) v.integer(`${prop}.max_alerts`, w.max_alerts, 0);
    });
    (receiver.slack_configs ?? []).forEach((s, j) => v.check(/^[#@]\S+$/.test(s.channel), `receivers[${i}].slack_configs[${j}].channel`, s.channel, '#channel or @user'));
    (receiver.email_configs ?? []).forEach((e, j) => {
      const prop = `receivers[${i}].email_configs[${j}]`;
      v.check(/^[^\s:]+:\d+$/.test(e.smarthost), `${prop}.smarthost`, e.smarthost, 'host:port of the SMTP server');
      v.check(/^\S+@\S+$/.test(e.to), `${prop}.to`, e.to, 'an email address');
      v.check(/^\S+@\S+$/.test(e.from), `${prop}.from`, e.from, 'an email address');
    });
  });
  v.unique('receivers[].name', names);
  receivers.forEach((receiver, i) => {
    for (const kind of INTEGRATION_KINDS) {
      (receiver[kind] ?? []).forEach((integration, j) => {
        for (const field of SECRET_FIELDS[kind]) {
          const ref = (integration as unknown as Record<string, SecretKeyRef | undefined>)[field];
          if (ref !== undefined) v.secretKeyRef(`receivers[${i}].${kind}[${j}].${field}`, ref);
        }
      });
    }
  });

  v.check(route.receiver !== undefined, 'route.receiver', route.receiver, 'the name of a receiver (the root route must name one)');
  v.check(!route.matchers?.length, 'route.matchers', route.matchers, 'empty: the root route matches every alert');
  checkRoute(v, 'route', route, [...new Set(names)]);
  inhibitRules.forEach((rule, i) => {
    for (const field of ['source_matchers', 'target_matchers'] as const) {
      v.check(rule[field]?.length > 0, `inhibitRules[${i}].${field}`, rule[field], 'at least one matcher');
      (rule[field] ?? []).forEach((m, j) => checkMatcher(v, `inhibitRules[${i}].${field}[${j}]`, m));
    }
  });
}

function checkRoute(v: PropValidator, prop: string, route: Route, receivers: readonly string[]): void {
  if (route.receiver !== undefined) v.check(receivers.includes(route.receiver), `${prop}.receiver`, route.receiver, `one of the receivers (${receivers.join(', ') || 'none'})`);
  for (const field of ['group_wait', 'group_interval', 'repeat_interval'] as const) {
    const value = route[field];
    if (value !== undefined) v.check(DURATION.test(value), `${prop}.${field}`, value, 'a Prometheus duration such as 30s, 5m or 4h');
  }
  (route.matchers ?? []).forEach((m, i) => checkMatcher(v, `${prop}.matchers[${i}]`, m));
  (route.routes ?? []).forEach((child, i) => checkRoute(v, `${prop}.routes[${i}]`, child, receivers));
}

function checkMatcher(v: PropValidator, prop: string, matcher: string): void {
  v.check(typeof matcher === 'string' && MATCHER.test(matcher), prop, matcher, 'a matcher such as severity="critical" or namespace=~"platform-.*"');
}

/**
 * The TCP ports the receivers connect to: a webhook URL's, the smarthost's, 443 for Slack and
 * PagerDuty and for a webhook whose URL is a secret (assumed https).
 */
export function egressPorts(receivers: readonly Receiver[]): number[] {
  const ports = new Set<number>();
  for (const receiver of receivers) {
    for (const w of receiver.webhook_configs ?? []) {
      if (w.url === undefined) {
        ports.add(443);
        continue;
      }
      const url = new URL(w.url);
      ports.add(url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80);
    }
    for (const e of receiver.email_configs ?? []) ports.add(Number(e.smarthost.split(':').pop()));
    if (receiver.slack_configs?.length || receiver.pagerduty_configs?.length) ports.add(443);
  }
  return [...ports].sort((a, b) => a - b);
}
