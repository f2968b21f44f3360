import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { Queue, Worker, type Job } from 'bullmq';
import { APP_CONFIG, type AppConfig } from '@gg/config';
import { JobName, QueueName, SettingsPattern, type SettingsView } from '@gg/contracts';
import { DB_MANAGER, type DbManager } from '@gg/db';
import { RpcClient } from '@gg/nest-common';
import { bullConnection, bullPrefix } from '../common/bullmq';

const EVERY_MS = 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

/** One store whose old entries are deleted on a schedule. */
interface RetentionTask {
  /** the BullMQ job scheduler's id (kept as deployed: an upsert replaces the running one) */
  schedulerId: string;
  /** what is deleted, for the log line */
  what: string;
  days: (config: Pick<AppConfig, 'logRetentionDays' | 'auditRetentionDays'>) => number;
  purgeBefore: (db: DbManager, iso: string) => Promise<number>;
}

const TASKS: Record<string, RetentionTask> = {
  [JobName.LogRetention]: {
    schedulerId: 'auth-log-retention',
    what: 'request logs',
    days: (c) => c.logRetentionDays,
    purgeBefore: (db, iso) => db.logs.purgeBefore(iso),
  },
  [JobName.AuditRetention]: {
    schedulerId: 'auth-audit-retention',
    what: 'audit entries',
    days: (c) => c.auditRetentionDays,
    purgeBefore: (db, iso) => db.audit.purgeBefore(iso),
  },
};

/**
 * auth's maintenance queue: every hour, one job per store deletes what is past its retention (LOG_RETENTION_DAYS,
 * AUDIT_RETENTION_DAYS). BullMQ job schedulers, so they survive restarts and run once whatever the number of auth
 * replicas; one worker, which runs each job by its name.
 */
@Injectable()
export class RetentionService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(RetentionService.name);
  private queue: Queue | undefined;
  private worker: Worker | undefined;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(DB_MANAGER) private readonly db: DbManager,
    private readonly rpc?: RpcClient,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const opts = { connection: bullConnection(this.config), prefix: bullPrefix(this.config) };
    this.queue = new Queue(QueueName.AuthMaintenance, opts);
    this.queue.on('error', (err) => this.logger.warn({ err: err.message }, 'maintenance queue connection error'));
    this.worker = new Worker(QueueName.AuthMaintenance, (job: Job) => this.run(job.name), { ...opts, concurrency: 1 });
    this.worker.on('failed', (job, err) =>
      this.logger.error({ jobId: job?.id, job: job?.name, err }, 'retention failed'),
    );
    this.worker.on('error', (err) => this.logger.warn({ err: err.message }, 'maintenance worker connection error'));
    for (const [name, task] of Object.entries(TASKS)) {
      await this.queue.upsertJobScheduler(
        task.schedulerId,
        { every: EVERY_MS },
        { name, opts: { removeOnComplete: 10, removeOnFail: 10 } },
      );
    }
  }

  /** Runs the retention the job's name says; returns how many entries it deleted (0 for a name it does not know). */
  async run(jobName: string, now = new Date()): Promise<number> {
    const task = TASKS[jobName];
    if (!task) {
      this.logger.warn({ job: jobName }, 'maintenance job of an unknown name ignored');
      return 0;
    }
    const before = new Date(now.getTime() - task.days(await this.retention()) * DAY_MS).toISOString();
    const removed = await task.purgeBefore(this.db, before);
    if (removed > 0) this.logger.log({ removed, before }, `old ${task.what} purged`);
    return removed;
  }

  /**
   * The retention in force: the runtime settings (key-pool's, asked when a job runs, so a change applies to the next
   * run without a restart), or the environment's when key-pool does not answer.
   */
  private async retention(): Promise<Pick<AppConfig, 'logRetentionDays' | 'auditRetentionDays'>> {
    if (!this.rpc) return this.config;
    try {
      const view = await this.rpc.send<SettingsView>(SettingsPattern.Get, {});
      return {
        logRetentionDays: view.settings.logRetentionDays.value,
        auditRetentionDays: view.settings.auditRetentionDays.value,
      };
    } catch (e) {
      this.logger.warn({ err: (e as Error).message }, 'runtime settings not available: retention from the environment');
      return this.config;
    }
  }

  async onModuleDestroy(): Promise<void> {
    await this.worker?.close();
    await this.queue?.close();
  }
}
