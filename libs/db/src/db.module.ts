import { getConfig } from "@gg/config";
import {
  Global,
  Inject,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
} from "@nestjs/common";
import { createDbManager } from "./create-db-manager";
import { DB_MANAGER, type DbManager } from "./db-manager";

/** Provides the service's DbManager (DB_MANAGER) to the whole app, chosen by DATABASE_TYPE; closes it on shutdown. */
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
          useFactory: (): Promise<DbManager> => {
            const config = getConfig();
            return createDbManager({
              type: config.databaseType,
              service,
              dataDir: config.dataDir,
              redisUrl: config.redisUrl,
              redisNamespace: config.redisNamespace,
            });
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
