export { Nginx, Backend, NGINX_IMAGE, NGINX_EXPORTER_IMAGE } from './nginx';
export type { NginxProps, IBackend, DirectRoute } from './nginx';
export { renderRoutingConf, ROUTE_FAILURES } from './routing-conf';
export type { RoutingConfModel } from './routing-conf';
export { block, directive, comment, mapEntry, renderNginxConf, quoteArg } from './conf';
export type { NginxNode, NginxBlock, NginxDirective, NginxComment, NginxMapEntry } from './conf';
