export * from './grafana';
export { PROMETHEUS_DATASOURCE_UID } from './datasources';
export type { GrafanaDatasource } from './datasources';
export type { CheckedDashboard } from './dashboards';
export { promqlParserVersion, recordPromqlParses } from './promql';
export type { PromqlParseRecord } from './promql';
