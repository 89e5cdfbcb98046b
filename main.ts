import { ENVIRONMENTS } from './app/environments';
import { EnvironmentConfig, PlatformApp, PlatformAppProps, PlatformChart } from './lib';

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
