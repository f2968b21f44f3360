import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, redisOptions, type AppConfig } from '@gg/config';
import { JobName, QueueName, type UsageBatchJob, type UsageRecord } from '@gg/contracts';
import { runOutsideRequest } from '@gg/nest-common';
import { Queue } from 'bullmq';

const MAX_BATCH = 500;
/** a record waits for the job before it to land at most this long, or to the end of its event-loop turn */
const MAX_WAIT_MS = 1;

/**
 * Hands one usage record per client request to the BullMQ usage queue. auth applies them idempotently by request
 * id, so a retried job never counts twice. `flush()` on shutdown loses nothing.
 *
 * Group commit: when no job is on its way, a record is sent at once (its job is written to Redis within the same
 * event-loop turn); the records that arrive while one is on its way go together as the next job as soon as it
 * lands, at the end of their event-loop turn, or once the oldest has waited MAX_WAIT_MS (one turn can last several
 * ms under load: a burst of answers). What a `kill -9` can lose is so bounded by about a millisecond of answers plus
 * one Redis round trip, and under load jobs grow rather than multiply (a BullMQ add costs ~0.1 ms of CPU).
 */
@Injectable()
export class UsageReporterService implements OnApplicationShutdown {
  private readonly logger = new Logger(UsageReporterService.name);
  private readonly queue: Queue<UsageBatchJob>;
  private buffer: UsageRecord[] = [];
  /** the traceparents of the buffered records' requests, with tracing on (the job's consumer span links to them) */
  private traces: string[] = [];
  private scheduled = false;
  /** performance.now() when the oldest buffered record arrived */
  private firstAt = 0;
  /** jobs written and not yet acknowledged by Redis */
  private inFlight = 0;
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

  record(r: UsageRecord, traceparent?: string): void {
    const now = performance.now();
    if (this.buffer.length === 0) this.firstAt = now;
    this.buffer.push(r);
    if (traceparent) this.traces.push(traceparent);
    if (this.inFlight === 0 || this.buffer.length >= MAX_BATCH || now - this.firstAt >= MAX_WAIT_MS) this.send();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.onTurnEnd);
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
    const job: UsageBatchJob = { records: this.buffer };
    this.buffer = [];
    if (this.traces.length > 0) {
      job.traces = this.traces;
      this.traces = [];
    }
    this.inFlight++;
    // a job holds many requests' records (each names its own): it is nobody's, whoever's record started it
    const p = runOutsideRequest(() => this.add(job)).finally(() => {
      this.pendingAdds.delete(p);
      this.inFlight--;
      // what gathered while this job was on its way goes now
      if (this.inFlight === 0) this.send();
    });
    this.pendingAdds.add(p);
  }

  private async add(job: UsageBatchJob): Promise<void> {
    // Redis may be briefly away: keep trying rather than lose a count.
    for (let attempt = 0; ; attempt++) {
      try {
        await this.queue.add(JobName.UsageBatch, job);
        return;
      } catch (e) {
        if (attempt >= 50) {
          this.logger.error(
            `dropping ${job.records.length} usage records after repeated failures: ${(e as Error).message}`,
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
