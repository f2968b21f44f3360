import { Inject, Injectable } from '@nestjs/common';
import type { Caller, LogQuery, Page, RequestLog, Stats, StatsWindow } from '@gg/contracts';
import { DB_MANAGER, type DbManager } from '@gg/db';

/** The request log and dashboard stats; a user sees only their own requests, an admin everyone's. */
@Injectable()
export class LogsService {
  constructor(@Inject(DB_MANAGER) private readonly db: DbManager) {}

  query(caller: Caller, query: LogQuery): Promise<Page<RequestLog>> {
    const scoped = caller.role === 'admin' ? { ...query } : { ...query, userId: caller.userId };
    return this.db.logs.query(scoped);
  }

  stats(caller: Caller, window: StatsWindow): Promise<Stats> {
    return this.db.logs.stats(window, new Date(), caller.role === 'admin' ? undefined : caller.userId);
  }
}
