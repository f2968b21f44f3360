import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, redisOptions, type AppConfig } from '@gg/config';
import { JobName, QueueName, type UsageBatchJob, type UsageRecord } from '@gg/contracts';
import { Queue } from 'bullmq';

const MAX_BATCH = 500;
/** at most one job per this many ms: a BullMQ add costs ~0.1 ms of CPU, so the cost stays under ~5 % of a core */
const MIN_GAP_MS = 2;

/**
 * Hands one usage record per client request to the BullMQ usage queue. auth applies them idempotently by request
 * id, so a retried job never counts twice. `flush()` on shutdown loses nothing.
 *
 * What a `kill -9` can lose is bounded by one Redis round trip, not by a 200 ms timer: the records of one
 * event-loop turn go out together at its end (setImmediate), one job per turn that has any (at most one per
 * MIN_GAP_MS under load), without waiting for the batches still on their way (ioredis pipelines them).
 */
@Injectable()
export class UsageReporterService implements OnApplicationShutdown {
  private readonly logger = new Logger(UsageReporterService.name);
  private readonly queue: Queue<UsageBatchJob>;
  private buffer: UsageRecord[] = [];
  private scheduled = false;
  private lastSentAt = 0;
  private readonly pendingAdds = new Set<Promise<unknown>>();

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.queue = new Queue<UsageBatchJob>(QueueName.Usage, {
      connection: { ...redisOptions(config.redisUrl), maxRetriesPerRequest: null },
      prefix: `${config.redisNamespace}:bull`,
      defaultJobOptions: {
        attempts: 20,
        backoff: { type: 'exponential', delay: 500 },
        removeOnComplete: 1000,
        removeOnFail: 5000,
      },
    });
    this.queue.on('error', (e) => this.logger.warn(`usage queue: ${e.message}`));
  }

  record(r: UsageRecord): void {
    this.buffer.push(r);
    if (this.buffer.length >= MAX_BATCH) this.send();
    else if (!this.scheduled) {
      this.scheduled = true;
      const wait = this.lastSentAt + MIN_GAP_MS - performance.now();
      if (wait <= 0) setImmediate(this.onTurnEnd);
      else setTimeout(this.onTurnEnd, wait);
    }
  }

  private readonly onTurnEnd = (): void => {
    this.scheduled = false;
    this.send();
  };

  /** Send what is buffered; resolves when every batch sent so far is in Redis. */
  async flush(): Promise<void> {
    this.send();
    await Promise.all([...this.pendingAdds]);
  }

  private send(): void {
    if (this.buffer.length === 0) return;
    const records = this.buffer;
    this.buffer = [];
    this.lastSentAt = performance.now();
    const p = this.add(records).finally(() => this.pendingAdds.delete(p));
    this.pendingAdds.add(p);
  }

  private async add(records: UsageRecord[]): Promise<void> {
    // Redis may be briefly away: keep trying rather than lose a count.
    for (let attempt = 0; ; attempt++) {
      try {
        await this.queue.add(JobName.UsageBatch, { records });
        return;
      } catch (e) {
        if (attempt >= 50) {
          this.logger.error(
            `dropping ${records.length} usage records after repeated failures: ${(e as Error).message}`,
          );
          return;
        }
        await new Promise((r) => setTimeout(r, Math.min(200 * (attempt + 1), 2000)));
      }
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.flush();
    await this.queue.close();
  }
}
