import { getConfig } from '@gg/config';
import { Global, Inject, Logger, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { createDbManager } from './create-db-manager';
import { DB_MANAGER, type DbManager } from './db-manager';

/**
 * Provides the service's DbManager (DB_MANAGER) to the whole app, chosen by DATABASE_TYPE; closes it on shutdown.
 * Opening it migrates the service's database (SQLite migrations, Redis layout steps) and logs what it did.
 */
@Global()
@Module({})
export class DbModule implements OnApplicationShutdown {
  constructor(@Inject(DB_MANAGER) private readonly db: DbManager) {}

  static forService(service: string): DynamicModule {
    return {
      module: DbModule,
      global: true,
      providers: [
        {
          provide: DB_MANAGER,
          useFactory: async (): Promise<DbManager> => {
            const config = getConfig();
            const db = await createDbManager({
              type: config.databaseType,
              service,
              dataDir: config.dataDir,
              redisUrl: config.redisUrl,
              redisNamespace: config.redisNamespace,
            });
            const m = db.migration;
            if (m && (m.adopted || m.applied.length)) {
              new Logger('Db').log(
                `${service} ${config.databaseType} schema at ${m.version}${m.adopted ? ' (adopted a first-release database)' : ''}${m.applied.length ? `; ran ${m.applied.join(', ')}` : ''}`,
              );
            }
            return db;
          },
        },
      ],
      exports: [DB_MANAGER],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.db.close();
  }
}
