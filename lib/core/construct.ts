import * as path from 'path';
import { App, Chart } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import { checkUniqueNames } from './names';
import { checkNoSecretValues, checkPodSecurity } from './security';

// `instanceof` without the Symbol.hasInstance overrides cdk8s installs (which answer true for a
// class of another copy of cdk8s): is the object made by this very class?
const madeBy = (cls: abstract new (...args: never[]) => unknown, object: unknown): boolean => Function.prototype[Symbol.hasInstance].call(cls, object);

function packageDir(name: string): string {
  try {
    return path.dirname(require.resolve(`${name}/package.json`));
  } catch {
    return name;
  }
}

/**
 * Fails when the scope comes from other copies of cdk8s or constructs than the library's: with a
 * symlinked install (npm link, workspaces, `npm install ../lib` without --install-links) the library
 * resolves its own copies next to its sources, and cdk8s then cannot render what the library made
 * (`can't render non-simple object of type 'Lazy'`). Said once, at construction, with what to do.
 */
export function checkSameCdk8s(scope: IConstruct): void {
  const foreign = !madeBy(Construct, scope) ? 'constructs'
    : scope.node.scopes.some((s) => Chart.isChart(s) && !madeBy(Chart, s)) || ('outdir' in scope.node.root && !madeBy(App, scope.node.root)) ? 'cdk8s'
      : undefined;
  if (!foreign) return;
  throw new Error(
    `cdk8s-platform-stack: '${scope.node.path}' was made with another copy of the '${foreign}' package than the one the library loads (${packageDir(foreign)}). ` +
      'The library is probably installed as a symlink (npm link, a workspace, or `npm install ../cdk8s-platform-stack`), so it resolves cdk8s, cdk8s-plus-27 ' +
      'and constructs from its own folder. Install it as a copy instead: `npm install --install-links ../cdk8s-platform-stack` (then reinstall after each ' +
      'library build), or from its packed tarball (`npm pack` in the library, then `npm install ./cdk8s-platform-stack-<version>.tgz`).',
  );
}

/** What every construct of the library registers when it is made: one copy of cdk8s, unique names, Pod Security, no Secret values. */
export function registerConstruct(construct: IConstruct): void {
  checkSameCdk8s(construct);
  checkUniqueNames(construct);
  checkPodSecurity(construct);
  checkNoSecretValues(construct);
}
