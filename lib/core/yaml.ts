import * as fs from 'fs';
import * as path from 'path';
import type * as YamlModule from 'yaml';

/**
 * The `yaml` library that renders the config files embedded in ConfigMaps (prometheus.yml, rule
 * files, Grafana provisioning), one copy per process: cdk8s bundles the same release
 * (node_modules/cdk8s/node_modules/yaml) and has loaded it before any construct runs, so loading
 * our own dependency too would cost a second load of the same code (about 25 ms a synth). Our own
 * copy is used whenever the releases differ: the rendered text never depends on what cdk8s bundles.
 */
export const YAML: typeof YamlModule = loadYaml();

function loadYaml(): typeof YamlModule {
  try {
    const bundled = require.resolve('yaml', { paths: [path.dirname(require.resolve('cdk8s'))] });
    if (packageVersion(bundled) === packageVersion(require.resolve('yaml'))) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      return require(bundled) as typeof YamlModule;
    }
  } catch {
    // No copy found beside cdk8s: load ours.
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('yaml') as typeof YamlModule;
}

/** The version in the package.json of the `yaml` package an entry point belongs to. */
function packageVersion(entry: string): string | undefined {
  for (let dir = path.dirname(entry); path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (!fs.existsSync(file)) continue;
    const manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (manifest.name === 'yaml') return manifest.version;
  }
  return undefined;
}
