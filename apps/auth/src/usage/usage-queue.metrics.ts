import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { Queue } from 'bullmq';
import { APP_CONFIG, type AppConfig } from '@gg/config';
import { QueueName } from '@gg/contracts';
import { ProbesService, registerQueueDepth } from '@gg/nest-common';
import { bullConnection, bullPrefix } from '../common/bullmq';

/** `gg_queue_jobs{queue="usage"}` on /metrics: usage batches waiting for this worker, read at scrape time. */
@Injectable()
export class UsageQueueMetrics implements OnModuleInit, OnApplicationShutdown {
  private queue?: Queue;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly probes: ProbesService,
  ) {}

  onModuleInit(): void {
    const queue = new Queue(QueueName.Usage, {
      connection: bullConnection(this.config),
      prefix: bullPrefix(this.config),
    });
    queue.on('error', () => undefined); // a scrape with Redis away just leaves the last values
    this.queue = queue;
    registerQueueDepth(this.probes.registry, QueueName.Usage, () =>
      queue.getJobCounts('waiting', 'active', 'delayed', 'failed'),
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queue?.close().catch(() => undefined);
  }
}
