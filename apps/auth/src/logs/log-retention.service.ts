import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { Queue, Worker } from 'bullmq';
import { APP_CONFIG, type AppConfig } from '@gg/config';
import { JobName, QueueName } from '@gg/contracts';
import { DB_MANAGER, type DbManager } from '@gg/db';
import { bullConnection, bullPrefix } from '../common/bullmq';

const SCHEDULER_ID = 'auth-log-retention';
const EVERY_MS = 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

/** Every hour (a BullMQ job scheduler, so it survives restarts), deletes request logs past LOG_RETENTION_DAYS. */
@Injectable()
export class LogRetentionService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(LogRetentionService.name);
  private queue: Queue | undefined;
  private worker: Worker | undefined;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(DB_MANAGER) private readonly db: DbManager,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const opts = { connection: bullConnection(this.config), prefix: bullPrefix(this.config) };
    this.queue = new Queue(QueueName.AuthMaintenance, opts);
    this.queue.on('error', (err) => this.logger.warn({ err: err.message }, 'maintenance queue connection error'));
    this.worker = new Worker(QueueName.AuthMaintenance, () => this.purge(), { ...opts, concurrency: 1 });
    this.worker.on('failed', (job, err) => this.logger.error({ jobId: job?.id, err }, 'log retention failed'));
    this.worker.on('error', (err) => this.logger.warn({ err: err.message }, 'maintenance worker connection error'));
    await this.queue.upsertJobScheduler(
      SCHEDULER_ID,
      { every: EVERY_MS },
      { name: JobName.LogRetention, opts: { removeOnComplete: 10, removeOnFail: 10 } },
    );
  }

  /** Deletes rows older than the retention; returns how many. */
  async purge(now = new Date()): Promise<number> {
    const before = new Date(now.getTime() - this.config.logRetentionDays * DAY_MS).toISOString();
    const removed = await this.db.logs.purgeBefore(before);
    if (removed > 0) this.logger.log({ removed, before }, 'old request logs purged');
    return removed;
  }

  async onModuleDestroy(): Promise<void> {
    await this.worker?.close();
    await this.queue?.close();
  }
}
