import { Inject, Injectable, Logger } from '@nestjs/common';
import { usageToRequestLog, type UsageBatchJob } from '@gg/contracts';
import { DB_MANAGER, type DbManager } from '@gg/db';
import { ProbesService } from '@gg/nest-common';
import { Counter } from 'prom-client';
import { AuthEventsService } from '../events/auth-events.service';
import { isUsageRecord } from './usage.mapper';

/** Applies usage batches from the gateways: counts and request log rows, once per request id. */
@Injectable()
export class UsageService {
  private readonly logger = new Logger(UsageService.name);
  private readonly applied: Counter;

  constructor(
    @Inject(DB_MANAGER) private readonly db: DbManager,
    private readonly events: AuthEventsService,
    probes: ProbesService,
  ) {
    this.applied = new Counter({
      name: 'gg_auth_usage_records_total',
      help: 'usage records received from gateways, by result',
      labelNames: ['result'],
      registers: [probes.registry],
    });
  }

  /** Returns how many records were new. Safe to run again with the same data (BullMQ is at least once). */
  async applyBatch(job: UsageBatchJob): Promise<number> {
    const all: unknown[] = Array.isArray(job?.records) ? job.records : [];
    const records = all.filter(isUsageRecord);
    if (records.length < all.length) {
      this.logger.warn({ dropped: all.length - records.length }, 'malformed usage records dropped');
      this.applied.inc({ result: 'malformed' }, all.length - records.length);
    }
    if (records.length === 0) return 0;
    const applied = await this.db.usage.apply(records);
    this.applied.inc({ result: 'applied' }, applied.length);
    this.applied.inc({ result: 'duplicate' }, records.length - applied.length);
    this.events.logsAppended(applied.map((r) => usageToRequestLog(r)));
    return applied.length;
  }
}
