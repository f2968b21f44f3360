export * from './patterns';
export * from './types';
export * from './errors';
export * from './user-key';
export * from './rpc';
export * from './usage';
export * from './limits';
export * from './resources';
