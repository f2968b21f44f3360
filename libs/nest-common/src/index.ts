export * from './transport';
export * from './rpc-client';
export * from './domain-error';
export * from './filters';
export * from './logging';
export * from './probes';
export * from './user-key-crypto';
export * from './ping';
