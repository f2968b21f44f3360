import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { Queue, Worker } from 'bullmq';
import IORedis from 'ioredis';
import { APP_CONFIG, redisOptions, type AppConfig } from '@gg/config';
import { JobName, QueueName } from '@gg/contracts';
import { ProbesService } from '@gg/nest-common';
import { KeyCheckService } from '../keys/key-check.service';
import { PoolStateService } from '../state/pool-state.service';

const SCHEDULER_ID = 'pool-health-sweep';
/** keys checked at the same time during a sweep */
const SWEEP_CONCURRENCY = 4;

/**
 * The repeatable health check (BullMQ, queue `pool-health`): every HEALTH_CHECK_INTERVAL_SECONDS it re-checks the
 * keys that are disabled or resting key-wide with one cheap upstream call; a key that passes is active again.
 * Keys resting only for some models (a 429) are left to their cooldowns: listing models says nothing of a quota.
 */
@Injectable()
export class HealthCheckService implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(HealthCheckService.name);
  private connection: IORedis;
  private queue: Queue | null = null;
  private worker: Worker | null = null;
  /** the sweep's period in force (HEALTH_CHECK_INTERVAL_SECONDS, or the runtime setting) */
  private everyMs: number;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly pool: PoolStateService,
    private readonly checks: KeyCheckService,
    private readonly probes: ProbesService,
  ) {
    this.everyMs = config.healthCheckIntervalMs;
  }

  onModuleInit(): void {
    this.connection = new IORedis({ ...redisOptions(this.config.redisUrl), maxRetriesPerRequest: null });
    this.connection.on('error', (e) => this.logger.warn({ err: e.message }, 'redis connection error (health queue)'));
    this.probes.register('redis', async () => (await this.connection.ping()) === 'PONG');
  }

  async onApplicationBootstrap(): Promise<void> {
    const opts = { connection: this.connection, prefix: `${this.config.redisNamespace}:bull` };
    this.queue = new Queue(QueueName.PoolHealth, opts);
    await this.schedule();
    this.worker = new Worker(QueueName.PoolHealth, () => this.sweep(), { ...opts, concurrency: 1 });
    this.worker.on('failed', (_job, e) => this.logger.error({ err: e.message }, 'pool health sweep failed'));
  }

  /** A new period (runtime settings): the job scheduler is replaced at once, its next run counted from now. */
  setPeriod(everyMs: number): void {
    if (everyMs === this.everyMs) return;
    this.everyMs = everyMs;
    if (this.queue) {
      this.schedule().catch((e: Error) => this.logger.warn({ err: e.message }, 'health check schedule not changed'));
    }
  }

  private async schedule(): Promise<void> {
    await this.queue?.upsertJobScheduler(
      SCHEDULER_ID,
      { every: this.everyMs },
      { name: JobName.PoolHealthSweep, opts: { removeOnComplete: 50, removeOnFail: 50 } },
    );
  }

  /** Checks every disabled or key-wide resting key; answers how many were checked and how many recovered. */
  async sweep(now = Date.now()): Promise<{ checked: number; recovered: number }> {
    const due = this.pool.all().filter((e) => e.state.disabled || e.state.cooldownUntil > now);
    let recovered = 0;
    for (let i = 0; i < due.length; i += SWEEP_CONCURRENCY) {
      await Promise.all(
        due.slice(i, i + SWEEP_CONCURRENCY).map(async (entry) => {
          const probe = await this.checks.probe(entry.secret, entry.id);
          this.checks.apply(entry.id, probe, 'recover');
          if (probe.classification.kind === 'success') recovered++;
        }),
      );
    }
    if (due.length > 0) this.logger.log({ checked: due.length, recovered }, 'pool health sweep');
    return { checked: due.length, recovered };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.worker?.close().catch(() => undefined);
    await this.queue?.close().catch(() => undefined);
    await this.connection?.quit().catch(() => undefined);
  }
}
