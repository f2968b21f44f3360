import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { Queue } from 'bullmq';
import { APP_CONFIG, redisOptions, type AppConfig } from '@gg/config';
import { QueueName } from '@gg/contracts';
import { ProbesService, registerQueueDepth } from '@gg/nest-common';

/** `gg_queue_jobs{queue="pool-health"}` on /metrics, read at scrape time. */
@Injectable()
export class HealthQueueMetrics implements OnModuleInit, OnApplicationShutdown {
  private queue?: Queue;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly probes: ProbesService,
  ) {}

  onModuleInit(): void {
    const queue = new Queue(QueueName.PoolHealth, {
      connection: { ...redisOptions(this.config.redisUrl), maxRetriesPerRequest: null },
      prefix: `${this.config.redisNamespace}:bull`,
    });
    queue.on('error', () => undefined);
    this.queue = queue;
    registerQueueDepth(this.probes.registry, QueueName.PoolHealth, () =>
      queue.getJobCounts('waiting', 'active', 'delayed', 'failed'),
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queue?.close().catch(() => undefined);
  }
}
