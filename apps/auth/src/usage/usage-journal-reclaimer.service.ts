import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, redisOptions, type AppConfig } from '@gg/config';
import {
  JobName,
  QueueName,
  USAGE_JOB_MAX_RECORDS,
  USAGE_JOB_OPTIONS,
  usageJournalKeys,
  type UsageBatchJob,
  type UsageRecord,
} from '@gg/contracts';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { bullConnection, bullPrefix } from '../common/bullmq';
import { isUsageRecord } from './usage.mapper';

/** How often auth looks for the journals of gateways that are gone. */
export const RECLAIM_EVERY_MS = 2000;
/** The hold of one auth replica on a journal it reclaims (renewed by nothing: a reclaim takes well under this). */
const RECLAIM_HOLD_MS = 30_000;

/** Drops a gone process from the set once its journal is empty, unless it came back meanwhile (atomic). */
const FORGET_IF_EMPTY = `
if redis.call('EXISTS', KEYS[2]) == 0 and redis.call('LLEN', KEYS[1]) == 0 then
  redis.call('SREM', KEYS[3], ARGV[1])
  return 1
end
return 0`;

/**
 * Queues the usage records that a gateway journaled and did not queue before it died (kill -9, OOM, a lost node):
 * the other half of the gateway's UsageReporterService. Every RECLAIM_EVERY_MS, each journal whose heartbeat has lapsed
 * is read from its head in jobs of up to USAGE_JOB_MAX_RECORDS; a job is queued before its entries are trimmed, so a
 * crash of auth in between queues them again (and applying usage counts a request id once).
 */
@Injectable()
export class UsageJournalReclaimer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(UsageJournalReclaimer.name);
  private readonly redis: Redis;
  private readonly queue: Queue<UsageBatchJob>;
  private readonly ns: string;
  private readonly holder = randomUUID();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.ns = config.redisNamespace;
    this.redis = new Redis({ ...redisOptions(config.redisUrl), maxRetriesPerRequest: 1 });
    this.redis.on('error', (e) => this.logger.warn(`usage journals: ${e.message}`));
    this.queue = new Queue<UsageBatchJob>(QueueName.Usage, {
      connection: bullConnection(config),
      prefix: bullPrefix(config),
      defaultJobOptions: USAGE_JOB_OPTIONS,
    });
    this.queue.on('error', (e) => this.logger.warn(`usage queue: ${e.message}`));
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.reclaimNow(), RECLAIM_EVERY_MS);
    this.timer.unref();
  }

  /** One pass over the journals (the timer's; tests call it too). Resolves when the pass is over. */
  reclaimNow(): Promise<void> {
    this.running ??= this.pass()
      .catch((e: Error) => this.logger.warn(`reclaiming usage journals: ${e.message}`))
      .finally(() => (this.running = null));
    return this.running;
  }

  private async pass(): Promise<void> {
    const ids = await this.redis.smembers(usageJournalKeys.journals(this.ns));
    for (const id of ids) {
      if ((await this.redis.exists(usageJournalKeys.alive(this.ns, id))) === 1) continue;
      const hold = usageJournalKeys.reclaiming(this.ns, id);
      if ((await this.redis.set(hold, this.holder, 'PX', RECLAIM_HOLD_MS, 'NX')) !== 'OK') continue;
      try {
        await this.reclaim(id);
      } finally {
        await this.redis.del(hold);
      }
    }
  }

  private async reclaim(id: string): Promise<void> {
    const journal = usageJournalKeys.journal(this.ns, id);
    let queued = 0;
    for (;;) {
      const entries = await this.redis.lrange(journal, 0, USAGE_JOB_MAX_RECORDS - 1);
      if (entries.length === 0) break;
      const records = entries.map(parseRecord).filter((r): r is UsageRecord => r !== null);
      if (records.length < entries.length) {
        this.logger.warn(
          { journal: id, dropped: entries.length - records.length },
          'malformed journal entries dropped',
        );
      }
      if (records.length > 0) await this.queue.add(JobName.UsageBatch, { records });
      await this.redis.ltrim(journal, entries.length, -1);
      queued += records.length;
    }
    await this.redis.eval(
      FORGET_IF_EMPTY,
      3,
      journal,
      usageJournalKeys.alive(this.ns, id),
      usageJournalKeys.journals(this.ns),
      id,
    );
    if (queued > 0) this.logger.log({ journal: id, records: queued }, 'usage of a gateway that is gone queued');
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
    await this.queue.close();
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

function parseRecord(entry: string): UsageRecord | null {
  try {
    const r: unknown = JSON.parse(entry);
    return isUsageRecord(r) ? r : null;
  } catch {
    return null;
  }
}
