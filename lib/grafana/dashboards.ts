import * as fs from 'fs';
import * as path from 'path';
import { Memo } from '../core/memo';
import { UID_PATTERN, UID_RULE, GrafanaDatasource } from './datasources';
import { promqlSyntaxError } from './promql';

/** A dashboard file that passed every check, ready to provision. */
export interface CheckedDashboard {
  /** Path relative to the dashboards folder, with '/' separators: `kubernetes/pods.json`. */
  readonly file: string;
  /** Absolute path of the file it was read from. */
  readonly path: string;
  /** The Grafana folder it goes to (its subfolder's name), or undefined for the General folder. */
  readonly folder?: string;
  /** File name: the ConfigMap key and the file name Grafana reads. */
  readonly fileName: string;
  /** A DNS-label id, unique across the folder tree: `kubernetes-pods`. */
  readonly id: string;
  readonly uid: string;
  readonly title: string;
  /** The JSON model to provision: `${DS_...}` placeholders resolved, `__inputs` removed. */
  readonly json: string;
}

/** Every dashboard under a folder, and every problem found in them. */
export interface DashboardScan {
  readonly dashboards: CheckedDashboard[];
  /** One line per problem: the file, the panel or variable, what is wrong and what is allowed. */
  readonly problems: string[];
}

/** Grafana subfolder names: they also name volumes and folder uids (`folder-<name>`). */
const FOLDER_NAME = /^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$/;
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*\.json$/;
const DS_PLACEHOLDER = /\$\{(DS_[A-Za-z0-9_]+)\}/g;
const VARIABLE_REF = /^\$\{?([A-Za-z0-9_]+)\}?$/;
// Grafana's own pseudo datasources, by uid or legacy name.
const BUILT_IN_DATASOURCES: Record<string, string> = {
  grafana: 'grafana',
  '-- Grafana --': 'grafana',
  '-- Mixed --': 'mixed',
  '-- Dashboard --': 'dashboard',
};

/** A dashboard file to check: the folder it is found in, its path under it, what problems call it. */
export interface DashboardEntry {
  readonly dir: string;
  /** Path relative to `dir`, with '/' separators: `kubernetes/pods.json`. */
  readonly file: string;
  /** How each problem names the file. */
  readonly label: string;
}

/** Every `*.json` under each of `dirs`, in folder order then path order (several folders: labelled with the folder's name). */
export function folderEntries(dirs: readonly string[]): DashboardEntry[] {
  return dirs.flatMap((dir) => listJsonFiles(dir).map((file) => ({ dir, file, label: `${dirs.length > 1 ? `${path.basename(dir)}/` : ''}${file}` })));
}

/** A single file a system brings (`<dir>/<folder>/<name>.json`), labelled with the construct that brings it. */
export function broughtEntry(absolutePath: string, by: string): DashboardEntry {
  const file = `${path.basename(path.dirname(absolutePath))}/${path.basename(absolutePath)}`;
  return { dir: path.dirname(path.dirname(absolutePath)), file, label: `${file} (brought by '${by}')` };
}

/**
 * Checks dashboard files as they come (a Grafana's folders first, then each file a system of its
 * chart brings, whenever that system is made) for what Grafana itself would skip silently at run
 * time or break on: JSON syntax, title and uid, uids, titles and ConfigMap names unique across
 * every file checked so far, datasource references and `${DS_...}` placeholders, library panels,
 * and that every PromQL expression parses. Only parse and checks: this runs at every synth.
 */
export class DashboardChecker {
  private readonly paths = new Set<string>();
  private readonly uids = new Map<string, string>();
  private readonly titles = new Map<string, string>();
  private readonly ids = new Map<string, string>();

  /** `datasources`: what the dashboards may refer to. */
  constructor(private readonly datasources: readonly GrafanaDatasource[]) {}

  /** Whether the file at this absolute path was checked already (then `check` skips it). */
  public has(file: string): boolean {
    return this.paths.has(file);
  }

  /** The dashboards of the files not checked before (each path once), and every problem found in them. */
  public check(entries: readonly DashboardEntry[]): DashboardScan {
    const problems: string[] = [];
    const dashboards: CheckedDashboard[] = [];
    for (const { dir, file, label } of entries) {
      if (this.paths.has(path.join(dir, file))) continue;
      this.paths.add(path.join(dir, file));
      const report = (what: string) => problems.push(`${label}: ${what}`);
      const dashboard = this.checkEntry(dir, file, report);
      if (dashboard) dashboards.push(dashboard);
    }
    return { dashboards, problems };
  }

  private checkEntry(dir: string, file: string, report: (what: string) => void): CheckedDashboard | undefined {
    const segments = file.split('/');
    const fileName = segments[segments.length - 1];
    const folder = segments.length > 1 ? segments[0] : undefined;
    if (segments.length > 2) {
      report('dashboards must be at most one folder deep (dashboards/<folder>/<file>.json): each subfolder becomes one Grafana folder');
      return undefined;
    }
    if (folder !== undefined && !FOLDER_NAME.test(folder)) {
      report(`folder name must be a DNS label of at most 32 characters (lower-case letters, digits and '-'), got '${folder}'`);
      return undefined;
    }
    if (!FILE_NAME.test(fileName)) {
      report(`file name must be letters, digits, '.', '-' and '_' (it becomes a ConfigMap key), got '${fileName}'`);
      return undefined;
    }
    const id = [folder, fileName.slice(0, -'.json'.length)].filter(Boolean).join('-').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
    if (this.ids.has(id)) {
      report(`file name must give a ConfigMap name distinct from ${this.ids.get(id)}'s, both give '${id}'`);
      return undefined;
    }
    this.ids.set(id, file);

    const checked = checkFile(fs.readFileSync(path.join(dir, file), 'utf8'), this.datasources);
    checked.problems.forEach(report);
    const { uid, title } = checked;
    if (uid !== undefined) {
      if (this.uids.has(uid)) report(`uid must be unique, '${uid}' is also the uid of ${this.uids.get(uid)}`);
      else this.uids.set(uid, file);
    }
    if (title !== undefined) {
      // Grafana refuses a second dashboard with the same title in one folder.
      const key = `${folder ?? ''}/${title}`;
      if (this.titles.has(key)) report(`title must be unique within its folder, '${title}' is also the title of ${this.titles.get(key)}`);
      else this.titles.set(key, file);
    }
    if (checked.json === undefined || uid === undefined || title === undefined) return undefined;
    return { file, path: path.join(dir, file), folder, fileName, id, uid, title, json: checked.json };
  }
}

/** Checks every `*.json` under each of `dirs` (hidden files and folders skipped, as Grafana does). */
export function scanDashboards(dirs: readonly string[], datasources: readonly GrafanaDatasource[]): DashboardScan {
  return new DashboardChecker(datasources).check(folderEntries(dirs));
}

/** What one file holds: its problems, its uid and title if usable, its JSON to provision if it has no problem. */
interface CheckedFile {
  readonly problems: readonly string[];
  readonly uid?: string;
  readonly title?: string;
  readonly json?: string;
}

// An app builds a Grafana per environment from the same files: check each content once. The
// checks read only these fields of the datasources (not their URLs, which differ per environment).
const checkedFiles = new Memo<string, CheckedFile>(256);

function checkFile(text: string, datasources: readonly GrafanaDatasource[]): CheckedFile {
  const key = `${JSON.stringify(datasources.map((d) => [d.name, d.uid, d.type, d.isDefault ?? false]))}\0${text}`;
  return checkedFiles.get(key, () => parseAndCheck(text, datasources));
}

function parseAndCheck(text: string, datasources: readonly GrafanaDatasource[]): CheckedFile {
  let model: unknown;
  try {
    model = JSON.parse(text);
  } catch (error) {
    return { problems: [`is not valid JSON: ${describeJsonError(text, (error as Error).message)}`] };
  }
  if (!isObject(model)) return { problems: [`must hold a dashboard JSON model (an object), got ${Array.isArray(model) ? 'an array' : typeof model}`] };
  // JSON may escape any character (\u0024 for '$'): only a file without escapes and without the text
  // of a placeholder certainly holds none (most do not; a walk of each value made V8 optimize it).
  const problems = checkDashboard(model, datasources, text.includes('${DS_') || text.includes('\\u'));
  const uid = typeof model.uid === 'string' && UID_PATTERN.test(model.uid) ? model.uid : undefined;
  const title = typeof model.title === 'string' && model.title.trim() ? model.title : undefined;
  return { problems, uid, title, json: problems.length === 0 ? JSON.stringify(model, null, 2) : undefined };
}

/** Relative paths ('/'-separated) of every `*.json` under `dir`, sorted; hidden entries skipped. */
function listJsonFiles(dir: string, prefix = ''): string[] {
  const files: string[] = [];
  for (const entry of fs.readdirSync(path.join(dir, prefix), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (entry.name.startsWith('.')) continue;
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
    const isDirectory = entry.isDirectory() || (entry.isSymbolicLink() && fs.statSync(path.join(dir, relative)).isDirectory());
    if (isDirectory) files.push(...listJsonFiles(dir, relative));
    else if (entry.name.endsWith('.json')) files.push(relative);
  }
  return files;
}

/** JSON.parse's message, with the line and column of the position it names. */
function describeJsonError(text: string, message: string): string {
  const position = /at position (\d+)/.exec(message);
  if (!position || /line \d+/.test(message)) return message;
  const before = text.slice(0, Number(position[1])).split('\n');
  return `${message} (line ${before.length} column ${before[before.length - 1].length + 1})`;
}

type Json = Record<string, unknown>;

/** A JSON object: not null, not an array. */
export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asObjects(value: unknown): Json[] {
  return Array.isArray(value) ? value.filter(isObject) : [];
}

/**
 * Checks one dashboard model and, on the way, resolves its `${DS_...}` import placeholders in place
 * (removing `__inputs`; `mayHoldPlaceholders` false: no string holds one). Returns the problems found.
 */
function checkDashboard(model: Json, datasources: readonly GrafanaDatasource[], mayHoldPlaceholders: boolean): string[] {
  const problems: string[] = [];
  if (typeof model.title !== 'string' || !model.title.trim()) problems.push(`title must be a non-empty string, got ${JSON.stringify(model.title)}`);
  if (model.uid === undefined || model.uid === null || model.uid === '') {
    problems.push('uid must be set: without one Grafana makes up a new uid, and links and bookmarks break');
  } else if (typeof model.uid !== 'string' || !UID_PATTERN.test(model.uid)) {
    problems.push(`uid must be ${UID_RULE}, got ${JSON.stringify(model.uid)}`);
  }
  problems.push(...resolveImportPlaceholders(model, datasources, mayHoldPlaceholders));

  const resolver = new DatasourceResolver(model, datasources);
  const where = (kind: string, item: Json, key: string) => `${kind} ${typeof item[key] === 'string' && item[key] ? `'${item[key]}'` : '(untitled)'}`;

  for (const variable of asObjects((model.templating as Json | undefined)?.list)) {
    const label = where('variable', variable, 'name');
    if (variable.type === 'datasource' && typeof variable.query === 'string' && !datasources.some((d) => d.type === variable.query)) {
      problems.push(`${label}: lists datasources of type '${variable.query}', but none is provisioned (provisioned types: ${[...new Set(datasources.map((d) => d.type))].join(', ')})`);
    }
    if (variable.type !== 'query') continue;
    const type = resolver.typeOf(variable.datasource, resolver.defaultType, label, problems);
    const query = typeof variable.query === 'string' ? variable.query : isObject(variable.query) ? variable.query.query : undefined;
    if (type === 'prometheus' && typeof query === 'string' && query.trim()) {
      const problem = variableQueryProblem(query);
      if (problem) problems.push(`${label}: query ${problem}: ${query}`);
    }
  }

  for (const annotation of asObjects((model.annotations as Json | undefined)?.list)) {
    const label = where('annotation', annotation, 'name');
    const type = resolver.typeOf(annotation.datasource, resolver.defaultType, label, problems);
    if (type === 'prometheus') checkExpr(annotation.expr, label, problems);
  }

  for (const panel of allPanels(model.panels)) {
    const label = `${where('panel', panel, 'title')} (id ${panel.id ?? '?'})`;
    if (isObject(panel.libraryPanel)) {
      problems.push(`${label}: is library panel '${panel.libraryPanel.name ?? panel.libraryPanel.uid}', which provisioning cannot create: unlink it in Grafana (panel menu > More > Unlink library panel) and export again`);
      continue;
    }
    const panelType = resolver.typeOf(panel.datasource, resolver.defaultType, label, problems);
    for (const target of asObjects(panel.targets)) {
      const targetLabel = `${label}, target ${target.refId ?? '?'}`;
      const inherited = panelType === 'mixed' ? resolver.defaultType : panelType;
      if (resolver.typeOf(target.datasource, inherited, targetLabel, problems) === 'prometheus') checkExpr(target.expr, targetLabel, problems);
    }
  }
  return problems;
}

/** Panels, and the panels inside (collapsed) rows. */
function allPanels(panels: unknown): Json[] {
  return asObjects(panels).flatMap((panel) => [panel, ...allPanels(panel.panels)]);
}

function checkExpr(expr: unknown, label: string, problems: string[]): void {
  if (typeof expr !== 'string' || !expr.trim()) return; // no query: Grafana shows no data, nothing to parse
  const problem = promqlSyntaxError(expr);
  if (problem) problems.push(`${label}: expr ${problem}: ${expr}`);
}

/**
 * A Prometheus query variable is one of Grafana's functions (label_values, label_names, metrics,
 * query_result) or plain PromQL. The PromQL inside is checked.
 */
function variableQueryProblem(query: string): string | undefined {
  const call = /^(\s*(label_values|label_names|metrics|query_result)\s*\()([\s\S]*)\)\s*$/.exec(query);
  if (!call) return promqlSyntaxError(query);
  const [, head, fn, args] = call;
  if (fn === 'query_result') return promqlSyntaxError(args, head.length);
  if (fn === 'label_values') {
    const withSelector = /^([\s\S]*),\s*[A-Za-z_][A-Za-z0-9_]*\s*$/.exec(args);
    if (withSelector) return promqlSyntaxError(withSelector[1], head.length);
    return /^\s*[A-Za-z_][A-Za-z0-9_]*\s*$/.test(args) ? undefined : 'must be label_values(label) or label_values(selector, label)';
  }
  return undefined; // label_names(...) and metrics(regex) take no PromQL expression
}

/**
 * Replaces `${DS_...}` placeholders (left by "Export for sharing externally") with the uid of the
 * provisioned datasource of the type `__inputs` declares, and removes `__inputs`: Grafana does not
 * resolve them for provisioned dashboards, whose panels then fail with "datasource not found".
 */
function resolveImportPlaceholders(model: Json, datasources: readonly GrafanaDatasource[], mayHoldPlaceholders: boolean): string[] {
  const problems: string[] = [];
  const replacements = new Map<string, string>();
  const declared = new Set<string>();
  for (const input of asObjects(model.__inputs)) {
    const name = String(input.name);
    declared.add(name);
    if (input.type !== 'datasource') {
      problems.push(`__inputs '${name}' (${input.type}) cannot be answered at provisioning: replace \${${name}} in the file with its value`);
      continue;
    }
    const candidates = datasources.filter((d) => d.type === input.pluginId);
    const chosen = candidates.find((d) => d.isDefault) ?? candidates[0];
    if (chosen) replacements.set(name, chosen.uid);
    else problems.push(`__inputs '${name}' needs a datasource of type '${input.pluginId}', but none is provisioned (provisioned types: ${[...new Set(datasources.map((d) => d.type))].join(', ')})`);
  }
  delete model.__inputs;
  const unresolved = new Set<string>();
  const replace = (value: unknown): unknown => {
    if (typeof value === 'string') {
      // Most strings hold no placeholder: the cheap test spares them the regular expression.
      if (!value.includes('${DS_')) return value;
      return value.replace(DS_PLACEHOLDER, (placeholder, name: string) => {
        const uid = replacements.get(name);
        if (uid === undefined && !declared.has(name)) unresolved.add(placeholder);
        return uid ?? placeholder;
      });
    }
    if (Array.isArray(value)) return value.map(replace);
    if (isObject(value)) {
      for (const key of Object.keys(value)) value[key] = replace(value[key]);
    }
    return value;
  };
  if (mayHoldPlaceholders) replace(model);
  for (const placeholder of unresolved) {
    problems.push(`${placeholder} must be declared in __inputs (as "Export for sharing externally" writes it) or replaced by a provisioned datasource uid (${datasources.map((d) => `'${d.uid}'`).join(', ')})`);
  }
  return problems;
}

/** Finds which datasource type a panel, target, variable or annotation queries. */
class DatasourceResolver {
  /** Type of the default datasource: what a reference of null means. */
  readonly defaultType: string | undefined;
  private readonly variables = new Map<string, string>();

  constructor(
    model: Json,
    private readonly datasources: readonly GrafanaDatasource[],
  ) {
    this.defaultType = datasources.find((d) => d.isDefault)?.type;
    for (const variable of asObjects((model.templating as Json | undefined)?.list)) {
      if (variable.type === 'datasource' && typeof variable.name === 'string') this.variables.set(variable.name, String(variable.query));
    }
  }

  /**
   * The plugin type `ref` points to (`inherited` when it is null or missing), or undefined when it
   * points nowhere: then a problem is recorded.
   */
  typeOf(ref: unknown, inherited: string | undefined, label: string, problems: string[]): string | undefined {
    if (ref === null || ref === undefined) return inherited;
    const uid = typeof ref === 'string' ? ref : isObject(ref) ? ref.uid : undefined;
    const declaredType = isObject(ref) && typeof ref.type === 'string' ? ref.type : undefined;
    if (uid === null || uid === undefined) return declaredType ?? inherited;
    if (typeof uid !== 'string') {
      problems.push(`${label}: datasource uid must be a string, got ${JSON.stringify(uid)}`);
      return undefined;
    }
    if (uid in BUILT_IN_DATASOURCES) return BUILT_IN_DATASOURCES[uid];
    const variable = VARIABLE_REF.exec(uid);
    if (variable) {
      const type = this.variables.get(variable[1]);
      // An unresolved ${DS_...} placeholder is reported once, as such.
      if (type === undefined && !variable[1].startsWith('DS_')) problems.push(`${label}: datasource '${uid}' must name a datasource variable of this dashboard, there is none called '${variable[1]}'`);
      return type;
    }
    // A string reference is a name in old (schemaVersion < 33) models, a uid in newer ones.
    const datasource = this.datasources.find((d) => d.uid === uid || (typeof ref === 'string' && d.name === uid));
    if (!datasource) {
      problems.push(`${label}: datasource uid must be one of the provisioned ${this.datasources.map((d) => `'${d.uid}'`).join(', ')}, a datasource variable or a built-in, got '${uid}'`);
      return undefined;
    }
    if (declaredType && declaredType !== datasource.type && declaredType !== 'datasource') {
      problems.push(`${label}: datasource '${uid}' is of type '${datasource.type}', the reference says '${declaredType}'`);
    }
    return datasource.type;
  }
}
