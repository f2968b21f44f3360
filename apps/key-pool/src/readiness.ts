import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { DB_MANAGER, type DbManager } from '@gg/db';
import { ProbesService } from '@gg/nest-common';

/** `/readyz` answers 200 when the db answers (and Redis: registered by HealthCheckService on its connection). */
@Injectable()
export class ReadinessChecks implements OnModuleInit {
  constructor(
    @Inject(DB_MANAGER) private readonly db: DbManager,
    private readonly probes: ProbesService,
  ) {}

  onModuleInit(): void {
    this.probes.register('db', () => this.db.ping());
  }
}
