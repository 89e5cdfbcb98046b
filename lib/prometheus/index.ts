export * from './config';
export * from './prometheus';
export * from './rules';
export * from './scrape-jobs';
export * from './storage';
export { parsePrometheusDuration, parsePrometheusSize, relabelRegexProblem } from './syntax';
export * from './go-service';
