import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { Worker, type Job } from 'bullmq';
import { APP_CONFIG, type AppConfig } from '@gg/config';
import { JobName, QueueName, type UsageBatchJob } from '@gg/contracts';
import { linksTo, telemetryEnabled, traceHandler } from '@gg/nest-common';
import { SpanKind } from '@opentelemetry/api';
import { bullConnection, bullPrefix } from '../common/bullmq';
import { UsageService } from './usage.service';

const STALL_LOCK_MS = 10_000;
const STALL_CHECK_MS = 5_000;
/**
 * Jobs in hand at once. Their records are applied together (UsageService's group commit), so while the store
 * applies one group the next jobs are already fetched: the queue's round trips no longer sit between two store
 * calls. Each job is at most 500 records (the gateway's batch), so memory stays bounded.
 */
export const USAGE_CONCURRENCY = 8;

/** Consumes `QueueName.Usage`, several jobs at a time. On shutdown the jobs in hand finish first. */
@Injectable()
export class UsageWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(UsageWorker.name);
  private worker: Worker<UsageBatchJob, number> | undefined;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly usage: UsageService,
  ) {}

  onApplicationBootstrap(): void {
    this.worker = new Worker<UsageBatchJob, number>(QueueName.Usage, (job) => this.process(job), {
      connection: bullConnection(this.config),
      prefix: bullPrefix(this.config),
      concurrency: USAGE_CONCURRENCY,
      // After a crash (kill -9) the jobs in hand are taken up again once their locks lapse: soon, and however often
      // auth crashes (a job is never failed for stalling), since applying a batch twice counts it once.
      lockDuration: STALL_LOCK_MS,
      stalledInterval: STALL_CHECK_MS,
      maxStalledCount: Number.MAX_SAFE_INTEGER,
    });
    this.worker.on('failed', (job, err) => this.logger.error({ jobId: job?.id, err }, 'usage job failed'));
    this.worker.on('error', (err) => this.logger.warn({ err: err.message }, 'usage worker connection error'));
  }

  /** The worker's Redis answers (readiness). */
  async ping(): Promise<boolean> {
    if (!this.worker) return false;
    // BullMQ types its connection narrowly; it is an ioredis client.
    const client = (await this.worker.client) as unknown as { ping(): Promise<string> };
    return (await client.ping()) === 'PONG';
  }

  async onModuleDestroy(): Promise<void> {
    await this.worker?.close();
  }

  private async process(job: Job<UsageBatchJob, number>): Promise<number> {
    if (job.name !== JobName.UsageBatch) {
      this.logger.warn({ jobId: job.id, name: job.name }, `usage job not named ${JobName.UsageBatch}; applied anyway`);
    }
    const traces = job.data?.traces;
    if (!telemetryEnabled() || !Array.isArray(traces)) return this.usage.applyBatch(job.data);
    // one job holds many requests: its span is linked to each (up to MAX_LINKS), the child of none
    const links = linksTo(traces.filter((t): t is string => typeof t === 'string'));
    return traceHandler(
      `process ${QueueName.Usage}`,
      SpanKind.CONSUMER,
      undefined,
      () => this.usage.applyBatch(job.data),
      links,
    );
  }
}
