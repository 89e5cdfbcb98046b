export * from './config';
export * from './prometheus';
export * from './rules';
export * from './scrape-jobs';
export * from './storage';
export { parseDuration, parseSize, relabelRegexProblem } from './syntax';
export * from './go-service';
