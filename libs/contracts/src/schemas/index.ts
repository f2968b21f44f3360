export * from './common';
export * from './logs';
export * from './auth-keys';
export * from './users';
export * from './pool-keys';
export * from './proxies';
export * from './rpc';
export * from './audit';
