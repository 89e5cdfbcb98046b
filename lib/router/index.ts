export { Router, ROUTER_NODE_IMAGE, ROUTER_DEFAULT_RESOURCES } from './router';
export type { RouterProps, RouterImage, RouteRule, IRouterEndpoint } from './router';
export type { PathPrefixParams, MatchParams, WeightedParams, RedisLookupParams, RefuseParams, KeySource, RequestInput } from './service/rules';
export { routerRuleGroup } from './rules';
