import { App, AppProps, YamlOutputType } from 'cdk8s';
import { ENVIRONMENTS, EnvironmentConfig, PlatformChart } from './lib';

/** Builds the app: one PlatformChart per environment. Building writes nothing; `synth()` does. */
export function buildApp(props: AppProps = {}, environments: readonly EnvironmentConfig[] = ENVIRONMENTS): App {
  // A folder per environment and a file per object: small, reviewable diffs in the GitOps repo.
  const app = new App({ yamlOutputType: YamlOutputType.FOLDER_PER_CHART_FILE_PER_RESOURCE, ...props });
  for (const environment of environments) {
    new PlatformChart(app, environment.name, { environment });
  }
  return app;
}

if (require.main === module) buildApp().synth();
