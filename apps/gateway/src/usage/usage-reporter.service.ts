import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, redisOptions, type AppConfig } from '@gg/config';
import { JobName, QueueName, type UsageBatchJob, type UsageRecord } from '@gg/contracts';
import { Queue } from 'bullmq';

const FLUSH_MS = 200;
const MAX_BATCH = 200;

/**
 * Hands one usage record per client request to the BullMQ usage queue, in small batches. auth applies them
 * idempotently by request id, so a retried job never counts twice. `flush()` on shutdown loses nothing.
 */
@Injectable()
export class UsageReporterService implements OnApplicationShutdown {
  private readonly logger = new Logger(UsageReporterService.name);
  private readonly queue: Queue<UsageBatchJob>;
  private buffer: UsageRecord[] = [];
  private timer?: NodeJS.Timeout;
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
    if (this.buffer.length >= MAX_BATCH) this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), FLUSH_MS);
      this.timer.unref();
    }
  }

  /** Send what is buffered; resolves when every batch sent so far is in Redis. */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.buffer.length > 0) {
      const records = this.buffer;
      this.buffer = [];
      const p = this.add(records);
      this.pendingAdds.add(p);
      void p.finally(() => this.pendingAdds.delete(p));
    }
    await Promise.all([...this.pendingAdds]);
  }

  private async add(records: UsageRecord[]): Promise<void> {
    // Redis may be briefly away: keep trying rather than lose a count.
    for (let attempt = 0; ; attempt++) {
      try {
        await this.queue.add(JobName.UsageBatch, { records });
        return;
      } catch (e) {
        if (attempt >= 50) {
          this.logger.error(`dropping ${records.length} usage records after repeated failures: ${(e as Error).message}`);
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
