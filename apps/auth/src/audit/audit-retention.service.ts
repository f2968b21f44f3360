import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { Queue, Worker } from 'bullmq';
import { APP_CONFIG, type AppConfig } from '@gg/config';
import { JobName, QueueName } from '@gg/contracts';
import { DB_MANAGER, type DbManager } from '@gg/db';
import { bullConnection, bullPrefix } from '../common/bullmq';

const SCHEDULER_ID = 'auth-audit-retention';
const EVERY_MS = 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Every hour, deletes audit entries past AUDIT_RETENTION_DAYS: the request-log retention's pattern (a BullMQ job
 * scheduler, so it survives restarts and runs once whatever the number of auth replicas), on a queue of its own
 * because the maintenance queue's worker runs every job it is given as a request-log purge.
 */
@Injectable()
export class AuditRetentionService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(AuditRetentionService.name);
  private queue: Queue | undefined;
  private worker: Worker | undefined;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(DB_MANAGER) private readonly db: DbManager,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const opts = { connection: bullConnection(this.config), prefix: bullPrefix(this.config) };
    this.queue = new Queue(QueueName.AuthAuditMaintenance, opts);
    this.queue.on('error', (err) => this.logger.warn({ err: err.message }, 'audit queue connection error'));
    this.worker = new Worker(QueueName.AuthAuditMaintenance, () => this.purge(), { ...opts, concurrency: 1 });
    this.worker.on('failed', (job, err) => this.logger.error({ jobId: job?.id, err }, 'audit retention failed'));
    this.worker.on('error', (err) => this.logger.warn({ err: err.message }, 'audit worker connection error'));
    await this.queue.upsertJobScheduler(
      SCHEDULER_ID,
      { every: EVERY_MS },
      { name: JobName.AuditRetention, opts: { removeOnComplete: 10, removeOnFail: 10 } },
    );
  }

  /** Deletes entries older than the retention; returns how many. */
  async purge(now = new Date()): Promise<number> {
    const before = new Date(now.getTime() - this.config.auditRetentionDays * DAY_MS).toISOString();
    const removed = await this.db.audit.purgeBefore(before);
    if (removed > 0) this.logger.log({ removed, before }, 'old audit entries purged');
    return removed;
  }

  async onModuleDestroy(): Promise<void> {
    await this.worker?.close();
    await this.queue?.close();
  }
}
