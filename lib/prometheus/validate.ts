// Checks of the typed scrape config and rules, in PropValidator's terms (prop, value, what is
// allowed), for what Prometheus would otherwise reject at start-up or, worse, accept and ignore.
import { Duration } from 'cdk8s';
import { PropValidator } from '../core/validation';
import { ACTIONS_NEEDING_TARGET, KUBERNETES_SD_ROLES, RELABEL_ACTIONS, RelabelConfig, ScrapeConfig } from './config';
import { isAlertingRule, RuleGroup } from './rules';
import { DURATION_SYNTAX, formatPrometheusDuration, LABEL_NAME, METRIC_NAME, parsePrometheusDuration, relabelRegexProblem } from './syntax';

/** Checks a duration prop (a Prometheus duration string or a cdk8s Duration); with `positive`, 0 is refused too. Returns the milliseconds, or undefined. */
export function checkDuration(v: PropValidator, prop: string, value: string | Duration, positive = true): number | undefined {
  if (value instanceof Duration) {
    const ms = value.toMilliseconds({ integral: false });
    const ok = Number.isInteger(ms) && (positive ? ms > 0 : ms >= 0);
    v.check(ok, prop, formatPrometheusDuration(value) ?? value.toHumanString(), positive ? 'a Duration of whole milliseconds, greater than 0' : 'a Duration of whole milliseconds');
    return ok ? ms : undefined;
  }
  const ms = parsePrometheusDuration(value);
  const ok = ms !== undefined && (!positive || ms > 0);
  v.check(ok, prop, value, positive ? `${DURATION_SYNTAX}, greater than 0` : DURATION_SYNTAX);
  return ok ? ms : undefined;
}

/** Checks a `host:port` scrape target. */
function checkTarget(v: PropValidator, prop: string, target: string): void {
  const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?):(\d+)$/.exec(target);
  const port = match ? Number(match[3]) : 0;
  v.check(port >= 1 && port <= 65535, prop, target, 'host:port with a port from 1 to 65535 (no scheme, no path)');
}

/** Checks the label names of a labels map. */
function checkLabelNames(v: PropValidator, prop: string, labels: Readonly<Record<string, string>> | undefined): void {
  for (const name of Object.keys(labels ?? {})) {
    v.check(LABEL_NAME.test(name) && !name.startsWith('__'), `${prop}`, name, 'label names matching [a-zA-Z_][a-zA-Z0-9_]* and not starting with __ (reserved)');
  }
}

/** Checks one relabel rule: known action, a regex RE2 compiles, the fields its action needs. */
export function checkRelabel(v: PropValidator, prop: string, rule: RelabelConfig): void {
  const action = rule.action ?? 'replace';
  v.oneOf(`${prop}.action`, action, RELABEL_ACTIONS);
  if (rule.regex !== undefined) {
    const problem = relabelRegexProblem(rule.regex);
    if (problem) v.fail(`${prop}.regex`, rule.regex, problem);
  }
  for (const [i, label] of (rule.source_labels ?? []).entries()) {
    v.check(LABEL_NAME.test(label), `${prop}.source_labels[${i}]`, label, 'a label name matching [a-zA-Z_][a-zA-Z0-9_]*');
  }
  if (ACTIONS_NEEDING_TARGET.includes(action)) {
    v.check(!!rule.target_label, `${prop}.target_label`, rule.target_label, `set: action ${action} writes it`);
  }
  if (action === 'hashmod') {
    v.check(Number.isInteger(rule.modulus) && (rule.modulus ?? 0) > 0, `${prop}.modulus`, rule.modulus, 'an integer > 0: action hashmod needs it');
  }
  if (rule.target_label) {
    // Prometheus' own pattern: a label name, possibly built from regex groups ($1, ${name}).
    v.check(/^(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+$/.test(rule.target_label), `${prop}.target_label`, rule.target_label, 'a label name, optionally with $1 or ${name} from the regex');
  }
}

/**
 * Checks one scrape job. `globalIntervalMs`/`globalTimeoutMs` are what the job inherits, so a job
 * whose timeout exceeds its interval is caught whichever of the two it sets.
 */
export function checkScrapeJob(v: PropValidator, prop: string, job: ScrapeConfig, globalIntervalMs: number | undefined, globalTimeoutMs: number | undefined): void {
  v.check(typeof job.job_name === 'string' && /^[A-Za-z0-9][-A-Za-z0-9_.]*$/.test(job.job_name), `${prop}.job_name`, job.job_name, 'a job name of letters, digits, -, _ and . (it becomes the job label)');
  const intervalMs = job.scrape_interval === undefined ? globalIntervalMs : checkDuration(v, `${prop}.scrape_interval`, job.scrape_interval);
  const timeoutMs = job.scrape_timeout === undefined ? globalTimeoutMs : checkDuration(v, `${prop}.scrape_timeout`, job.scrape_timeout);
  if (intervalMs !== undefined && timeoutMs !== undefined && timeoutMs > intervalMs) {
    v.fail(`${prop}.scrape_timeout`, job.scrape_timeout ?? `${timeoutMs / 1000}s (inherited)`, `at most the job's scrape interval (${job.scrape_interval ?? `${intervalMs / 1000}s inherited`})`);
  }
  if (job.metrics_path !== undefined) v.check(job.metrics_path.startsWith('/'), `${prop}.metrics_path`, job.metrics_path, 'an absolute HTTP path starting with /');
  if (job.scheme !== undefined) v.oneOf(`${prop}.scheme`, job.scheme, ['http', 'https']);
  if (job.sample_limit !== undefined) v.integer(`${prop}.sample_limit`, job.sample_limit, 0);
  const sdCount = (job.kubernetes_sd_configs?.length ?? 0) + (job.static_configs?.length ?? 0);
  v.check(sdCount > 0, `${prop}`, job.job_name, 'a job with kubernetes_sd_configs or static_configs (it has no targets)');
  for (const [i, sd] of (job.kubernetes_sd_configs ?? []).entries()) {
    v.oneOf(`${prop}.kubernetes_sd_configs[${i}].role`, sd.role, KUBERNETES_SD_ROLES);
    for (const [n, name] of (sd.namespaces?.names ?? []).entries()) v.dnsLabel(`${prop}.kubernetes_sd_configs[${i}].namespaces.names[${n}]`, name);
  }
  for (const [i, group] of (job.static_configs ?? []).entries()) {
    v.nonEmpty(`${prop}.static_configs[${i}].targets`, group.targets);
    for (const [t, target] of group.targets.entries()) checkTarget(v, `${prop}.static_configs[${i}].targets[${t}]`, target);
    checkLabelNames(v, `${prop}.static_configs[${i}].labels`, group.labels);
  }
  for (const [i, rule] of (job.relabel_configs ?? []).entries()) checkRelabel(v, `${prop}.relabel_configs[${i}]`, rule);
  for (const [i, rule] of (job.metric_relabel_configs ?? []).entries()) checkRelabel(v, `${prop}.metric_relabel_configs[${i}]`, rule);
}

/** Checks one rule group: a name usable as a file name, and rules Prometheus would load. */
export function checkRuleGroup(v: PropValidator, prop: string, group: RuleGroup): void {
  v.check(typeof group.name === 'string' && /^[A-Za-z0-9][-A-Za-z0-9_.]{0,100}$/.test(group.name), `${prop}.name`, group.name, 'a group name of letters, digits, -, _ and . (it names the rule file)');
  if (group.interval !== undefined) checkDuration(v, `${prop}.interval`, group.interval);
  v.nonEmpty(`${prop}.rules`, group.rules);
  for (const [i, rule] of group.rules.entries()) {
    const where = `${prop}.rules[${i}]`;
    v.check(typeof rule.expr === 'string' && rule.expr.trim().length > 0, `${where}.expr`, rule.expr, 'a PromQL expression');
    checkLabelNames(v, `${where}.labels`, rule.labels);
    if (isAlertingRule(rule)) {
      v.check(LABEL_NAME.test(rule.alert), `${where}.alert`, rule.alert, 'an alert name matching [a-zA-Z_][a-zA-Z0-9_]*');
      if (rule.for !== undefined) checkDuration(v, `${where}.for`, rule.for, false);
      if (rule.keep_firing_for !== undefined) checkDuration(v, `${where}.keep_firing_for`, rule.keep_firing_for, false);
      for (const name of Object.keys(rule.annotations ?? {})) v.check(LABEL_NAME.test(name), `${where}.annotations`, name, 'annotation names matching [a-zA-Z_][a-zA-Z0-9_]*');
    } else {
      v.check(METRIC_NAME.test(rule.record), `${where}.record`, rule.record, 'a metric name matching [a-zA-Z_:][a-zA-Z0-9_:]*');
    }
  }
}
