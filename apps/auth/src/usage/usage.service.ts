import { Inject, Injectable, Logger } from '@nestjs/common';
import { usageToRequestLog, type UsageBatchJob, type UsageRecord } from '@gg/contracts';
import { DB_MANAGER, type DbManager } from '@gg/db';
import { DebugLog, ProbesService } from '@gg/nest-common';
import { Counter } from 'prom-client';
import { AuthEventsService } from '../events/auth-events.service';
import { isUsageRecord } from './usage.mapper';

/** Records applied by one store call at most (several jobs of the usage queue together). */
export const MAX_GROUP_RECORDS = 2000;

interface Pending {
  records: UsageRecord[];
  resolve(fresh: Set<string>): void;
  reject(e: unknown): void;
}

/** Applies usage batches from the gateways: counts and request log rows, once per request id. */
@Injectable()
export class UsageService {
  private readonly logger = new Logger(UsageService.name);
  private readonly debug = new DebugLog(UsageService.name);
  private readonly applied: Counter;
  /** jobs whose records wait for the store call in progress to end */
  private readonly waiting: Pending[] = [];
  /** store calls in progress */
  private inFlight = 0;

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

  /**
   * Returns how many records of this job were new. Safe to run again with the same data (BullMQ is at least once).
   *
   * Group commit: the worker takes several jobs at once; the records of the jobs that arrive while the store is
   * busy are applied together by the next single `usage.apply` (one transaction on SQLite, a few script calls on
   * Redis), so the store's fixed cost per call is paid once per group, not per job. Each job still completes only
   * after the call holding its records has committed: a crash before that leaves it to BullMQ to hand out again,
   * and the store counts a request id once however often it comes.
   */
  async applyBatch(job: UsageBatchJob): Promise<number> {
    const all: unknown[] = Array.isArray(job?.records) ? job.records : [];
    const records = all.filter(isUsageRecord);
    if (records.length < all.length) {
      this.logger.warn({ dropped: all.length - records.length }, 'malformed usage records dropped');
      this.applied.inc({ result: 'malformed' }, all.length - records.length);
    }
    if (records.length === 0) return 0;
    const fresh = await this.enqueue(records);
    // a request id in this job that the store had not seen; it may also be in another job of the group (or twice
    // here): it is announced by one of them only, as the store reports it once
    const applied = records.filter((r) => fresh.delete(r.requestId));
    this.applied.inc({ result: 'applied' }, applied.length);
    this.applied.inc({ result: 'duplicate' }, records.length - applied.length);
    if (this.debug.on) {
      const duplicates = records.length - applied.length;
      this.debug.line('usage batch applied', { records: records.length, applied: applied.length, duplicates });
    }
    this.events.logsAppended(applied.map((r) => usageToRequestLog(r)));
    return applied.length;
  }

  /** Resolves with the request ids the store applied in the call that held these records (shared by the group). */
  private enqueue(records: UsageRecord[]): Promise<Set<string>> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ records, resolve, reject });
      this.pump();
    });
  }

  /**
   * Starts store calls while fewer than the store's limit are in flight. SQLite has one writer (one connection
   * behind a mutex): one call at a time, the next group gathering meanwhile. On Redis two calls overlap, so that
   * auth builds one while Redis runs the other (concurrent calls are safe: a request id counts once whatever the
   * order, db contract).
   */
  private pump(): void {
    const limit = this.db.type === 'redis' ? 2 : 1;
    while (this.inFlight < limit && this.waiting.length > 0) {
      const group: Pending[] = [];
      let size = 0;
      // always at least one job, however large; then as many as fit in MAX_GROUP_RECORDS
      while (
        this.waiting.length > 0 &&
        (group.length === 0 || size + this.waiting[0].records.length <= MAX_GROUP_RECORDS)
      ) {
        const p = this.waiting.shift() as Pending;
        size += p.records.length;
        group.push(p);
      }
      this.inFlight++;
      void this.run(group);
    }
  }

  private async run(group: Pending[]): Promise<void> {
    try {
      const applied = await this.db.usage.apply(group.flatMap((p) => p.records));
      const fresh = new Set(applied.map((r) => r.requestId));
      for (const p of group) p.resolve(fresh);
    } catch (e) {
      // every job of the group fails and is retried by BullMQ; what the store committed counts once then
      for (const p of group) p.reject(e);
    } finally {
      this.inFlight--;
      this.pump();
    }
  }
}
