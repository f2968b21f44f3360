import type { DbManager, DbManagerOptions } from './db-manager';
import { RedisDbManager } from './redis/redis-db-manager';
import { SqliteDbManager } from './sqlite/sqlite-db-manager';

/** Open the DbManager of one service with the driver named by `opts.type`. */
export async function createDbManager(opts: DbManagerOptions): Promise<DbManager> {
  switch (opts.type) {
    case 'sqlite':
      return SqliteDbManager.open(opts);
    case 'redis':
      return RedisDbManager.open(opts);
    default:
      throw new Error(`unknown database type: ${String((opts as { type: unknown }).type)}`);
  }
}
