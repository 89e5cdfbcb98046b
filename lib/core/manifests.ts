import * as fs from 'fs';
import * as path from 'path';
import { ApiObject, App, AppProps, Chart, Names } from 'cdk8s';
import { IConstruct } from 'constructs';

/**
 * How the manifests of `dist/` are written: a folder per chart and a file per object, named
 * `<Kind>.<name>.k8s.yaml` as cdk8s's FOLDER_PER_CHART_FILE_PER_RESOURCE names them, holding the
 * objects exactly as cdk8s synthesizes them (`ApiObject.toJson()`: keys sorted, apiVersion, kind
 * and metadata first). Only the serializer differs from `App.synth()`: js-yaml instead of the
 * `yaml` library, 2 to 4 times faster on these objects, whose serialization took most of a synth.
 */

/** The part of js-yaml used here (the package ships no types). */
interface JsYaml {
  dump(value: unknown, options: Readonly<Record<string, unknown>>): string;
  readonly DEFAULT_SCHEMA: { extend(types: { implicit: unknown[] }): unknown };
  readonly Type: new (tag: string, options: { kind: 'scalar'; resolve: (data: string | null) => boolean }) => unknown;
}

// Strings that go-yaml v2 reads as numbers (Kubernetes' sigs.k8s.io/yaml and Prometheus read YAML
// with it): it drops every `_`, then parses Go integer syntax (`0o17`, `0x1F`, `0755` in octal)
// and decimal floats (`08`, `1e3`). YAML 1.1 parsers read `1_000` as a number too.
const GO_YAML_V2_INT = /^[-+]?(0[xX][0-9a-fA-F]+|0[oO]?[0-7]+|0[bB][01]+|[0-9]+)$/;
const GO_YAML_V2_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;

/** True when go-yaml v2 or a YAML 1.1 parser would read `text`, written unquoted, as a number. */
export function readAsNumberByYaml11(text: string): boolean {
  if (!/^[-+.0-9]/.test(text)) return false;
  const digits = text.replace(/_/g, '');
  return GO_YAML_V2_INT.test(digits) || GO_YAML_V2_FLOAT.test(digits);
}

let loaded: { readonly jsYaml: JsYaml; readonly options: Readonly<Record<string, unknown>> } | undefined;

// Loaded on first use: a program that imports the library but writes no manifests pays nothing.
function load(): NonNullable<typeof loaded> {
  if (!loaded) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const jsYaml = require('js-yaml') as JsYaml;
    // An implicit type the dumper only consults to decide whether a string needs quotes: it
    // matches strings but never represents a value (it has no predicate), so they are quoted.
    const yaml11Numbers = new jsYaml.Type('tag:cdk8s-platform-stack,2025:yaml-1.1-number', {
      kind: 'scalar',
      resolve: (data) => data !== null && readAsNumberByYaml11(data),
    });
    const options = {
      schema: jsYaml.DEFAULT_SCHEMA.extend({ implicit: [yaml11Numbers] }),
      // Long values (PromQL, JSON, URLs) stay on one line.
      lineWidth: -1,
      // Every repeated object is written out in full: no anchors and aliases.
      noRefs: true,
      quotingType: '"',
      // Undefined (left by a JSON patch, say) is written as null, as cdk8s writes it.
      replacer: (_key: string, value: unknown) => (value === undefined ? null : value),
    };
    loaded = { jsYaml, options };
  }
  return loaded;
}

/**
 * One manifest as YAML: block style, keys in the object's order, multi-line strings as literal
 * blocks, strings quoted wherever a YAML 1.1 parser (go-yaml v2: kubectl, the API server's YAML
 * decoding) would read them as something else (`on`, `yes`, `1_000`, `0755`, `1:30`, `2024-01-01`...).
 */
export function manifestYaml(value: unknown): string {
  const { jsYaml, options } = load();
  return jsYaml.dump(value, options);
}

/** Props of a PlatformApp: an App's, but the output layout is fixed. */
export type PlatformAppProps = Omit<AppProps, 'yamlOutputType'>;

/** An app's output in memory: what `synth()` writes into the output folder. */
export interface RenderedManifests {
  /** The folder of each chart, relative to the output folder; a chart without objects has one too. */
  readonly folders: readonly string[];
  /** Each file, relative to the output folder (`<chart>/<Kind>.<name>.k8s.yaml`), and its text. */
  readonly files: ReadonlyMap<string, string>;
}

/**
 * An App whose output is a folder per chart and a file per object, written with js-yaml.
 * Validation, folder and file names and the objects are cdk8s's (FOLDER_PER_CHART_FILE_PER_RESOURCE).
 */
export class PlatformApp extends App {
  private readonly recordMetadata: boolean;

  constructor(props: PlatformAppProps = {}) {
    super(props);
    this.recordMetadata = props.recordConstructMetadata ?? process.env.CDK8S_RECORD_CONSTRUCT_METADATA === 'true';
  }

  /**
   * Runs every construct's validations (one error listing all that fail) and renders every object,
   * writing nothing. Fails when two objects would get the same file (cdk8s would silently keep the
   * last). With `recordConstructMetadata`, construct-metadata.json maps object names to construct
   * paths, as cdk8s writes it for the validation plugins of `cdk8s synth`.
   */
  public render(): RenderedManifests {
    const constructs = this.node.findAll();
    validateAll(constructs);
    const objects = new Map<string, ApiObject>();
    const folders: string[] = [];
    for (const { folder, chart } of orderedCharts(this, constructs)) {
      folders.push(folder);
      for (const construct of chart.node.findAll()) {
        // An object belongs to its closest chart only (charts may nest).
        if (!ApiObject.isApiObject(construct) || Chart.of(construct) !== chart) continue;
        const file = path.join(folder, `${`${construct.kind}.${construct.metadata.name}`.replace(/[^0-9a-zA-Z-_.]/g, '')}${this.outputFileExtension}`);
        const other = objects.get(file);
        if (other) throw new Error(`${other.node.path} and ${construct.node.path} would both be written to ${file}: give them different names`);
        objects.set(file, construct);
      }
    }
    const files = new Map([...objects].map(([file, apiObject]) => [file, manifestYaml(apiObject.toJson())]));
    if (this.recordMetadata) {
      const resources = Object.fromEntries([...objects.values()].map((o) => [o.name, { path: o.node.path }]));
      files.set('construct-metadata.json', JSON.stringify({ version: '1.0.0', resources }));
    }
    return { folders, files };
  }

  /** Renders (see `render()`), then writes `outdir/<chart>/<Kind>.<name><outputFileExtension>`. */
  public synth(): void {
    const { folders, files } = this.render();
    fs.mkdirSync(this.outdir, { recursive: true });
    for (const folder of folders) fs.mkdirSync(path.join(this.outdir, folder), { recursive: true });
    for (const [file, text] of files) fs.writeFileSync(path.join(this.outdir, file), text);
  }
}

/** Runs every validation, as App.synth() does, and throws cdk8s's error listing all failures. */
function validateAll(constructs: readonly IConstruct[]): void {
  const errors = constructs.flatMap((c) => c.node.validate().map((error) => `[${c.node.path}] ${error}`));
  if (errors.length > 0) throw new Error(`Validation failed with the following errors:\n  ${errors.join('\n  ')}`);
}

/**
 * Every chart with its folder name: `<chart>` or, when charts depend on one another (nested charts,
 * or constructs depending on another chart's), `0000-<chart>` numbered in cdk8s's dependency
 * order. Chart-to-chart dependencies are added as App.synth() adds them.
 */
function orderedCharts(app: App, constructs: readonly IConstruct[]): { folder: string; chart: Chart }[] {
  let dependent = false;
  for (const parent of constructs.filter(Chart.isChart)) {
    for (const child of parent.node.children.filter(Chart.isChart)) {
      parent.node.addDependency(child);
      dependent = true;
    }
  }
  for (const source of constructs) {
    for (const target of source.node.dependencies) {
      const sourceChart = Chart.of(source);
      const targetChart = Chart.of(target);
      if (sourceChart !== targetChart) {
        sourceChart.node.addDependency(targetChart);
        dependent = true;
      }
    }
  }
  // Without dependencies the order names nothing: skip sorting the whole construct graph.
  if (!dependent) return constructs.filter(Chart.isChart).map((chart) => ({ chart, folder: Names.toDnsLabel(chart) }));
  return app.charts.map((chart, i) => ({ chart, folder: `${String(i).padStart(4, '0')}-${Names.toDnsLabel(chart)}` }));
}
