// What the synthesized chart asks of Prometheus: every dashboard panel's queries (from the
// dashboard ConfigMaps, as Grafana would send them) and every rule (from the rule files), and a
// check of each against a running Prometheus: the query returns data, and so does every series
// selector in it (an `or vector(0)` fallback must not hide a metric nobody exports).
import * as YAML from 'yaml';
import { RunningPrometheus } from '../support/prometheus-server';
import { K8sObject } from '../support/synth';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** A dashboard of the chart, as provisioned from its ConfigMap. */
export interface Dashboard {
  readonly title: string;
  readonly configMap: string;
  readonly model: Json;
}

/** One query of a panel, its variables not filled in yet. */
export interface PanelQuery {
  readonly dashboard: string;
  readonly panel: string;
  readonly refId: string;
  readonly expr: string;
}

/** One rule of the rule files. */
export interface Rule {
  readonly group: string;
  /** The alert's or the recorded series' name. */
  readonly name: string;
  readonly kind: 'alert' | 'record';
  readonly expr: string;
  /** An alert's annotation templates. */
  readonly annotations: Readonly<Record<string, string>>;
}

/** Every dashboard of the chart: each ConfigMap key holding a JSON model with panels. */
export function chartDashboards(objects: readonly K8sObject[]): Dashboard[] {
  const dashboards: Dashboard[] = [];
  for (const o of objects.filter((x) => x.kind === 'ConfigMap')) {
    for (const [key, text] of Object.entries<string>(o.data ?? {})) {
      if (!key.endsWith('.json')) continue;
      const model = JSON.parse(text);
      if (Array.isArray(model.panels)) dashboards.push({ title: model.title, configMap: o.metadata.name, model });
    }
  }
  return dashboards.sort((a, b) => a.title.localeCompare(b.title));
}

/** Panels, rows' collapsed panels included. */
function allPanels(panels: readonly Json[]): Json[] {
  return panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
}

/** Every Prometheus query of a dashboard's panels (hidden ones too: Grafana runs them for expressions). */
export function panelQueries(dashboard: Dashboard): PanelQuery[] {
  return allPanels(dashboard.model.panels)
    .filter((p) => p.type !== 'row')
    .flatMap((p) => (p.targets ?? []).filter((t: Json) => typeof t.expr === 'string').map((t: Json) => ({ dashboard: dashboard.title, panel: p.title, refId: t.refId, expr: t.expr })));
}

/** Every rule of every rule file of the chart (ConfigMap keys `*.rules.yml`). */
export function chartRules(objects: readonly K8sObject[]): Rule[] {
  const rules: Rule[] = [];
  for (const o of objects.filter((x) => x.kind === 'ConfigMap')) {
    for (const [key, text] of Object.entries<string>(o.data ?? {})) {
      if (!/\.rules\.ya?ml$/.test(key)) continue;
      for (const group of YAML.parse(text).groups ?? []) {
        for (const rule of group.rules) rules.push({ group: group.name, name: rule.alert ?? rule.record, kind: rule.alert ? 'alert' : 'record', expr: rule.expr, annotations: rule.annotations ?? {} });
      }
    }
  }
  return rules;
}

/**
 * The values Grafana would give the dashboard's variables here: each `label_values(metric, label)`
 * variable asked of Prometheus in order (a later one may use an earlier one), all values as a regex
 * for an includeAll or multi variable, else the first. A variable without values is missing from
 * the result (Grafana would leave every panel using it empty).
 */
export async function variableValues(prometheus: RunningPrometheus, dashboard: Dashboard): Promise<{ values: Record<string, string>; missing: string[] }> {
  const values: Record<string, string> = {};
  const missing: string[] = [];
  for (const variable of dashboard.model.templating?.list ?? []) {
    if (variable.type !== 'query') continue;
    const query = typeof variable.query === 'string' ? variable.query : variable.query?.query;
    const match = /^label_values\((?:(.*),\s*)?(\w+)\)$/.exec(query ?? '');
    if (!match) throw new Error(`${dashboard.title}: variable ${variable.name} has a query this test cannot run: ${query}`);
    const selector = match[1] ? fillVariables(match[1], values) : undefined;
    const found: string[] = await prometheus.api(`/api/v1/label/${match[2]}/values${selector ? `?match[]=${encodeURIComponent(selector)}` : ''}`);
    if (found.length === 0) {
      missing.push(variable.name);
      continue;
    }
    values[variable.name] = variable.includeAll || variable.multi ? found.map(escapeRegex).join('|') : found[0];
  }
  return { values, missing };
}

function escapeRegex(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Grafana's rate interval at 1 s scrapes: max(interval + scrape, 4 x scrape). */
export const RATE_INTERVAL = '4s';

/** The query as Grafana sends it: variables and interval macros filled in. */
export function fillVariables(expr: string, values: Readonly<Record<string, string>>): string {
  let filled = expr.replaceAll('$__rate_interval', RATE_INTERVAL).replaceAll('$__interval', '1s').replaceAll('$__range', '1m');
  // Longest names first: $pod before $p.
  for (const name of Object.keys(values).sort((a, b) => b.length - a.length)) filled = filled.replaceAll(`\${${name}}`, values[name]).replaceAll(`$${name}`, values[name]);
  return filled;
}

/** The series selectors of an expression, as PromQL text (Prometheus parses it: /api/v1/parse_query). */
export async function selectors(prometheus: RunningPrometheus, expr: string): Promise<string[]> {
  const found = new Set<string>();
  const visit = (node: Json): void => {
    if (!node || typeof node !== 'object') return;
    if (node.type === 'vectorSelector' || node.type === 'matrixSelector') {
      found.add(`{${node.matchers.map((m: Json) => `${m.name}${m.type}${JSON.stringify(m.value)}`).join(', ')}}`);
      return;
    }
    for (const value of Object.values(node)) {
      if (Array.isArray(value)) value.forEach(visit);
      else visit(value);
    }
  };
  visit(await prometheus.api(`/api/v1/parse_query?query=${encodeURIComponent(expr)}`));
  return [...found];
}

/**
 * Why a panel's query has no data: a variable of its dashboard without values (its selectors are
 * then checked with every value the label has, to say what else is missing), the query empty, or
 * its selectors that match no series. Empty when it has data.
 */
export async function missingPanelData(prometheus: RunningPrometheus, expr: string, variables: { values: Record<string, string>; missing: string[] }): Promise<string[]> {
  const unset = variables.missing.filter((name) => expr.includes(`$${name}`));
  if (unset.length === 0) return missingData(prometheus, fillVariables(expr, variables.values));
  const anyValue: Record<string, string> = {};
  for (const name of unset) anyValue[name] = (await prometheus.api(`/api/v1/label/${name}/values`) as string[]).map(escapeRegex).join('|') || 'none';
  const filled = fillVariables(expr, { ...variables.values, ...anyValue }).replace(/(\w+)="([^"]*\|[^"]*)"/g, '$1=~"$2"');
  return [...unset.map((name) => `variable $${name} has no values`), ...(await missingData(prometheus, filled, false))];
}

/** Why a query has no data: the query empty (when `wholeQuery`), or its selectors that match no series. Empty when it has data. */
export async function missingData(prometheus: RunningPrometheus, expr: string, wholeQuery = true): Promise<string[]> {
  const missing: string[] = [];
  if (wholeQuery && (await prometheus.query(expr)).length === 0) missing.push('the query returns nothing');
  for (const selector of await selectors(prometheus, expr)) {
    if ((await prometheus.query(selector)).length === 0) missing.push(`no series ${selector}`);
  }
  return missing;
}
