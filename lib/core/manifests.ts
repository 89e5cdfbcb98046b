import * as fs from 'fs';
import * as path from 'path';
import { ApiObject, App, AppProps, Chart, Names } from 'cdk8s';
import { IConstruct } from 'constructs';
import { renderedCheckProblems, RenderObject, withRenderedChecksOnRender } from './rendered-checks';
import { toYaml } from './yaml';

/**
 * How the manifests of `dist/` are written: a folder per chart and a file per object, named
 * `<Kind>.<name>.k8s.yaml` as cdk8s's FOLDER_PER_CHART_FILE_PER_RESOURCE names them, holding the
 * objects exactly as cdk8s synthesizes them (`ApiObject.toJson()`: keys sorted, apiVersion, kind
 * and metadata first). Only the serializer differs from `App.synth()`: `toYaml` (js-yaml) instead
 * of the `yaml` library, 2 to 4 times faster on these objects, whose serialization took most of a synth.
 */

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
    const charts = constructs.filter(Chart.isChart);
    // The checks of rendered objects (Pod Security, kubectl's size limit) run on the objects as
    // rendered below, each object rendered once.
    const renderedErrors = (render: RenderObject) => charts.flatMap((chart) => renderedCheckProblems(chart, render).map((error) => `[${chart.node.path}] ${error}`));
    const errors = withRenderedChecksOnRender(this, () => validationErrors(constructs));
    // One error lists every failure, the rendered checks' too.
    if (errors.length > 0) throwValidationErrors([...errors, ...renderedErrors((object) => object.toJson())]);
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
    const rendered = new Map([...objects.values()].map((apiObject) => [apiObject, apiObject.toJson()]));
    throwValidationErrors(renderedErrors((object) => rendered.get(object) ?? object.toJson()));
    const files = new Map([...objects].map(([file, apiObject]) => [file, toYaml(rendered.get(apiObject))]));
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

/** Runs every validation, as App.synth() does: each failure as `[construct path] error`. */
function validationErrors(constructs: readonly IConstruct[]): string[] {
  return constructs.flatMap((c) => c.node.validate().map((error) => `[${c.node.path}] ${error}`));
}

/** Throws cdk8s's error listing all failures, if any. */
function throwValidationErrors(errors: readonly string[]): void {
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
