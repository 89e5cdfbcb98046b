import { ApiObject, Chart } from 'cdk8s';
import { IConstruct } from 'constructs';

/** An object as it is written: `ApiObject.toJson()`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type RenderObject = (object: ApiObject) => Record<string, any>;

/** A check of a chart's objects as rendered: its problems, each a sentence. */
export type RenderedCheck = (render: RenderObject) => string[];

const checksOf = new WeakMap<Chart, RenderedCheck[]>();

// The app whose validations are running in its own render(), which runs the checks on the objects it renders.
let checkedOnRender: IConstruct | undefined;

/**
 * Makes the synth of `chart` fail on the problems `check` finds in its objects as written (Pod
 * Security, the size `kubectl apply` allows). Run once, after every construct is made, so it reads
 * what is written, not what was there when the check was added: by PlatformApp.render() on the
 * objects it renders, each rendered once; under a plain App, as a validation of the chart, which
 * renders the objects it reads.
 */
export function addRenderedCheck(chart: Chart, check: RenderedCheck): void {
  const checks = checksOf.get(chart);
  if (checks) {
    checks.push(check);
    return;
  }
  checksOf.set(chart, [check]);
  chart.node.addValidation({ validate: () => (chart.node.root === checkedOnRender ? [] : renderedCheckProblems(chart, (object) => object.toJson())) });
}

/**
 * Runs `validate` (the validations of `app`) with the rendered checks left out: the caller runs
 * them afterwards on the objects as it renders them (`renderedCheckProblems`). Outside this call (a
 * plain `App.synth()`), each chart's validation runs them, rendering what they read.
 */
export function withRenderedChecksOnRender<T>(app: IConstruct, validate: () => T): T {
  checkedOnRender = app;
  try {
    return validate();
  } finally {
    checkedOnRender = undefined;
  }
}

/** The problems the rendered checks of `chart` find in its objects as `render` returns them. */
export function renderedCheckProblems(chart: Chart, render: RenderObject): string[] {
  return (checksOf.get(chart) ?? []).flatMap((check) => check(render));
}
