import { Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import type { EnvironmentConfig } from '../environments';
import { IPrometheusEndpoint } from '../core/endpoints';
import { GRAFANA_NODE_PORT, GrafanaProps, platformDashboardsDir } from './grafana';

/** What an environment sets for its Grafana (`EnvironmentConfig.grafana`). */
export interface GrafanaEnvironmentSettings {
  /**
   * Name of the existing Secret with the admin credentials (keys `admin-user`, `admin-password`).
   * @default `<environment name>-grafana-admin`
   */
  readonly adminSecretName?: string;
  /**
   * Let visitors in without logging in, as Viewers.
   * @default false
   */
  readonly anonymousAccess?: boolean;
  /**
   * Keep Grafana's database on a PersistentVolumeClaim of this size.
   * @default - an emptyDir
   */
  readonly storageSize?: Size;
  /**
   * CPU and memory of the Grafana container.
   * @default - Grafana's defaults (requests 100m / 256Mi, limits 500m / 512Mi)
   */
  readonly resources?: kplus.ContainerResources;
  /**
   * The URL users reach Grafana at.
   * @default - Grafana's default
   */
  readonly rootUrl?: string;
}

/**
 * The Grafana of one environment: wired to its Prometheus, the shipped dashboards, the NodePort
 * 30040 where the environment exposes NodePorts, and the environment's settings.
 */
export function grafanaPropsForEnvironment(scope: Construct, environment: EnvironmentConfig, prometheus: IPrometheusEndpoint): GrafanaProps {
  const settings = environment.grafana ?? {};
  return {
    prometheus,
    adminSecret: kplus.Secret.fromSecretName(scope, 'grafana-admin-secret', settings.adminSecretName ?? `${environment.name}-grafana-admin`),
    dashboardsDir: platformDashboardsDir(),
    nodePort: environment.exposeNodePorts ? GRAFANA_NODE_PORT : undefined,
    anonymousAccess: settings.anonymousAccess,
    storageSize: settings.storageSize,
    resources: settings.resources,
    rootUrl: settings.rootUrl,
  };
}
