export { NodeExporter, NODE_EXPORTER_IMAGE, NODE_EXPORTER_DEFAULT_RESOURCES, NODE_EXPORTER_POD_SECURITY } from './node-exporter';
export type { NodeExporterProps } from './node-exporter';
export { nodeExporterRuleGroup } from './rules';
