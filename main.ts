import * as path from 'path';
import { ENVIRONMENTS } from './app/environments';
import { EnvironmentConfig, persistPromqlParses, PlatformApp, PlatformAppProps, PlatformChart } from './lib';

// This app keeps the PromQL expressions its dashboards' checks parsed across synths, in its own
// node_modules/.cache: an unchanged synth then loads no parser (the library writes nothing unless asked).
persistPromqlParses(path.join(__dirname, 'node_modules', '.cache', 'cdk8s-platform-stack'));

/**
 * Builds the app: one PlatformChart per environment. Building writes nothing; `synth()` writes a
 * folder per environment and a file per object (small, reviewable diffs in the GitOps repo).
 */
export function buildApp(props: PlatformAppProps = {}, environments: readonly EnvironmentConfig[] = ENVIRONMENTS): PlatformApp {
  const app = new PlatformApp(props);
  for (const environment of environments) {
    new PlatformChart(app, environment.name, { environment });
  }
  return app;
}

if (require.main === module) buildApp().synth();
