export * from './config';
export * from './redis';
export * from './environment';
