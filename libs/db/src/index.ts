export * from './db-manager';
export * from './errors';
export { createDbManager } from './create-db-manager';
export { DbModule } from './db.module';
