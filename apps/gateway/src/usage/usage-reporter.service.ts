import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, redisOptions, type AppConfig } from '@gg/config';
import {
  JobName,
  QueueName,
  USAGE_JOB_EVERY_MS,
  USAGE_JOB_MAX_RECORDS,
  USAGE_JOB_OPTIONS,
  USAGE_JOURNAL_ALIVE_MS,
  USAGE_JOURNAL_HEARTBEAT_MS,
  usageJournalKeys,
  type UsageBatchJob,
  type UsageRecord,
} from '@gg/contracts';
import { runOutsideRequest } from '@gg/nest-common';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';

/** a record waits for the journal write before it to land at most this long, or to the end of its event-loop turn */
const MAX_WAIT_MS = 1;
/** a write or a job that Redis refuses is tried again this often before its records are given up (about 90 s) */
const MAX_ATTEMPTS = 50;

/**
 * Hands one usage record per client request to auth, through this process's journal in Redis and the BullMQ usage
 * queue (libs/contracts usageJournalKeys). auth applies records idempotently by request id, so a record queued twice
 * (a retried job, a journal reclaimed after a crash) never counts twice. `flush()` on shutdown loses nothing.
 *
 * Why two steps. A record must reach Redis within about a millisecond of its answer, or a `kill -9` loses it; but a
 * BullMQ job costs auth and Redis about a millisecond of CPU each, whatever its size. One job per millisecond was most
 * of the CPU of the control plane under load (auth ~300 µs and Redis ~120 µs per request at the bench's c=32).
 * So records go first to the journal, a plain list (one RPUSH, a few µs of Redis), and from there to the queue in
 * jobs of up to 100 ms of records, after which the journal is trimmed of them. A process killed in between leaves
 * its journal to auth (UsageJournalReclaimer), which queues what is left once the heartbeat lapses.
 *
 * Journal writes are group commits: when none is on its way a record is written at once (within its event-loop
 * turn); the records that arrive while one is on its way go together as the next write as soon as it lands, at the
 * end of their turn, or once the oldest has waited MAX_WAIT_MS (one turn can last several ms under load). What a
 * `kill -9` can lose is so bounded by about a millisecond of answers plus one Redis round trip.
 */
@Injectable()
export class UsageReporterService implements OnApplicationShutdown {
  private readonly logger = new Logger(UsageReporterService.name);
  private readonly queue: Queue<UsageBatchJob>;
  private readonly redis: Redis;
  readonly journalId = randomUUID();
  private readonly keys: { journal: string; alive: string; journals: string };
  private readonly heartbeat: NodeJS.Timeout;

  /** records not yet written to the journal */
  private buffer: UsageRecord[] = [];
  /** the traceparents of the buffered records' requests, with tracing on (the job's consumer span links to them) */
  private traces: string[] = [];
  private scheduled = false;
  /** performance.now() when the oldest buffered record arrived */
  private firstAt = 0;
  /** journal writes sent and not yet acknowledged */
  private writing = 0;
  private readonly pendingWrites = new Set<Promise<unknown>>();

  /** records in the journal and not yet in a job, in the journal's order */
  private journaled: UsageRecord[] = [];
  private journaledTraces: string[] = [];
  private jobTimer: NodeJS.Timeout | undefined;
  /** the job being added (one at a time: the journal is trimmed from its head in the order of the jobs) */
  private adding: Promise<void> | null = null;
  /** journal entries already in a job and not yet trimmed */
  private trimOwed = 0;
  /** the last job could not be queued, retries included (Redis away) */
  private addFailed = false;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    const ns = config.redisNamespace;
    this.queue = new Queue<UsageBatchJob>(QueueName.Usage, {
      connection: { ...redisOptions(config.redisUrl), maxRetriesPerRequest: null },
      prefix: `${ns}:bull`,
      defaultJobOptions: USAGE_JOB_OPTIONS,
    });
    this.queue.on('error', (e) => this.logger.warn(`usage queue: ${e.message}`));
    this.redis = new Redis({ ...redisOptions(config.redisUrl), maxRetriesPerRequest: null });
    this.redis.on('error', (e) => this.logger.warn(`usage journal: ${e.message}`));
    this.keys = {
      journal: usageJournalKeys.journal(ns, this.journalId),
      alive: usageJournalKeys.alive(ns, this.journalId),
      journals: usageJournalKeys.journals(ns),
    };
    // sent before any journal write on this connection: a journal is never written without its entry in the set
    this.beat();
    this.heartbeat = setInterval(() => this.beat(), USAGE_JOURNAL_HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  record(r: UsageRecord, traceparent?: string): void {
    const now = performance.now();
    if (this.buffer.length === 0) this.firstAt = now;
    this.buffer.push(r);
    if (traceparent) this.traces.push(traceparent);
    if (this.writing === 0 || this.buffer.length >= USAGE_JOB_MAX_RECORDS || now - this.firstAt >= MAX_WAIT_MS) {
      this.write();
    } else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.onTurnEnd);
    }
  }

  private readonly onTurnEnd = (): void => {
    this.scheduled = false;
    this.write();
  };

  /**
   * Writes what is buffered, then queues everything journaled; resolves when it is all in the usage queue, or when a
   * job could not be queued even with its retries (Redis away: what is journaled stays for auth to reclaim).
   */
  async flush(): Promise<void> {
    this.write();
    while (this.pendingWrites.size > 0) await Promise.all([...this.pendingWrites]);
    this.addFailed = false;
    for (;;) {
      if (this.adding) await this.adding;
      else if (this.journaled.length > 0 && !this.addFailed) this.queueJob();
      else break;
    }
  }

  private beat(): void {
    this.redis
      .multi()
      .sadd(this.keys.journals, this.journalId)
      .set(this.keys.alive, '1', 'PX', USAGE_JOURNAL_ALIVE_MS)
      .exec()
      .catch(() => undefined); // the next beat tries again; the error event has said why
  }

  private write(): void {
    if (this.buffer.length === 0) return;
    const records = this.buffer;
    const traces = this.traces;
    this.buffer = [];
    this.traces = [];
    this.writing++;
    // a write holds many requests' records: it is nobody's, whoever's record started it
    const p = runOutsideRequest(() => this.append(records))
      .then((written) => {
        if (!written) return;
        // in the order Redis applied the writes (one connection: replies come in order)
        for (const r of records) this.journaled.push(r);
        for (const t of traces) this.journaledTraces.push(t);
        this.scheduleJob();
      })
      .finally(() => {
        this.pendingWrites.delete(p);
        this.writing--;
        // what gathered while this write was on its way goes now
        if (this.writing === 0) this.write();
      });
    this.pendingWrites.add(p);
  }

  /** RPUSH, tried again while Redis is away (a duplicate entry from a retry is harmless: see queueJob). */
  private append(records: UsageRecord[]): Promise<boolean> {
    const entries = records.map((r) => JSON.stringify(r));
    return this.persist(
      () => this.redis.rpush(this.keys.journal, ...entries),
      (e) => `dropping ${records.length} usage records after repeated failures: ${e.message}`,
    );
  }

  /** Runs `op` until Redis takes it, waiting longer between tries (up to 2 s); false after MAX_ATTEMPTS, logged. */
  private async persist(op: () => Promise<unknown>, givenUp: (e: Error) => string): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      try {
        await op();
        return true;
      } catch (e) {
        if (attempt >= MAX_ATTEMPTS) {
          this.logger.error(givenUp(e as Error));
          return false;
        }
        await new Promise((r) => setTimeout(r, Math.min(200 * (attempt + 1), 2000)));
      }
    }
  }

  /**
   * Queues the oldest journaled records as one job, then trims as many entries from the head of the journal. Jobs
   * go one at a time, in journal order, so the head of the journal is always what has been queued; duplicates of a
   * retried write sit later in the list and only ever delay the trimming of an entry already queued.
   */
  private queueJob(): void {
    clearTimeout(this.jobTimer);
    this.jobTimer = undefined;
    if (this.adding || this.journaled.length === 0) return;
    const records = this.journaled.splice(0, USAGE_JOB_MAX_RECORDS);
    const job: UsageBatchJob = { records };
    if (this.journaledTraces.length > 0) {
      job.traces = this.journaledTraces;
      this.journaledTraces = [];
    }
    this.adding = runOutsideRequest(() => this.add(job))
      .then((added) => {
        this.addFailed = !added;
        if (added) return this.trim(records.length);
        // still the head of the journal: they go first in the next job
        this.journaled.unshift(...records);
        if (job.traces) this.journaledTraces.unshift(...job.traces);
      })
      .finally(() => {
        this.adding = null;
        this.scheduleJob();
      });
  }

  /**
   * The next job: at once when a full one is journaled, else within USAGE_JOB_EVERY_MS. While one is being added,
   * nothing (the end of that add asks again).
   */
  private scheduleJob(): void {
    if (this.adding) return;
    if (this.journaled.length >= USAGE_JOB_MAX_RECORDS) this.queueJob();
    else if (this.journaled.length > 0 && !this.jobTimer) {
      this.jobTimer = setTimeout(() => this.queueJob(), USAGE_JOB_EVERY_MS);
      this.jobTimer.unref();
    }
  }

  /** Redis may be briefly away: keep trying rather than lose a count (the journal still holds them meanwhile). */
  private add(job: UsageBatchJob): Promise<boolean> {
    return this.persist(
      () => this.queue.add(JobName.UsageBatch, job),
      (e) => `could not queue ${job.records.length} usage records yet (they stay in the journal): ${e.message}`,
    );
  }

  private async trim(count: number): Promise<void> {
    this.trimOwed += count;
    const owed = this.trimOwed;
    try {
      await this.redis.ltrim(this.keys.journal, owed, -1);
      this.trimOwed -= owed;
    } catch {
      // owed entries are trimmed with the next job's; until then they would only be queued again after a crash
    }
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.heartbeat);
    await this.flush();
    // everything is in the queue: the journal, the heartbeat and the entry in the set go (a journal still holding
    // records that could not be queued stays, for auth to reclaim once the heartbeat lapses)
    if (this.journaled.length === 0 && this.buffer.length === 0) {
      await this.redis
        .multi()
        .del(this.keys.journal, this.keys.alive)
        .srem(this.keys.journals, this.journalId)
        .exec()
        .catch(() => undefined);
    }
    await this.queue.close();
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
