import { redisOptions } from '@gg/config';
import Redis from 'ioredis';

/** The capped Redis stream every app's log lines also go to (admin serves it at `/api/service-logs`). */
export function serviceLogsKey(namespace: string): string {
  return `${namespace}:service-logs`;
}

/** Roughly how many lines the stream keeps (XADD MAXLEN ~). */
export const SERVICE_LOGS_MAXLEN = 10_000;

const LEVEL_NAMES: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

export interface ServiceLogSinkOptions {
  redisUrl: string;
  namespace: string;
  /** lines held while Redis is slow or away; past it new lines are dropped (bounded memory) */
  maxBuffered?: number;
  /** lines per XADD pipeline */
  batchSize?: number;
  flushIntervalMs?: number;
}

/**
 * A pino destination that ships each (already redacted) JSON line to the service-logs stream: `write` only
 * pushes into a bounded buffer; batches go out asynchronously on a connection of its own that never keeps the
 * process alive and never queues while Redis is away (the batch is dropped instead).
 */
export class ServiceLogSink {
  private buffer: string[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing = false;
  private redis: Redis | null = null;
  private retryAt = 0;
  /** lines lost to a full buffer or an unreachable Redis */
  dropped = 0;
  private readonly key: string;
  private readonly maxBuffered: number;
  private readonly batchSize: number;
  private readonly flushIntervalMs: number;

  constructor(private readonly opts: ServiceLogSinkOptions) {
    this.key = serviceLogsKey(opts.namespace);
    this.maxBuffered = opts.maxBuffered ?? 2000;
    this.batchSize = opts.batchSize ?? 200;
    this.flushIntervalMs = opts.flushIntervalMs ?? 250;
  }

  /** pino's stream interface. Never blocks, never throws. */
  write(line: string): boolean {
    if (this.buffer.length >= this.maxBuffered) {
      this.dropped++;
      return true;
    }
    this.buffer.push(line);
    this.schedule();
    return true;
  }

  /** Sends what is buffered now (tests, shutdown). */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.buffer.length > 0) {
        const batch = this.buffer.splice(0, this.batchSize);
        const redis = await this.client();
        if (!redis) {
          this.dropped += batch.length;
          continue;
        }
        const pipeline = redis.pipeline();
        for (const line of batch) pipeline.xadd(this.key, 'MAXLEN', '~', SERVICE_LOGS_MAXLEN, '*', ...fieldsOf(line));
        await pipeline.exec().catch(() => {
          this.dropped += batch.length;
        });
      }
    } finally {
      this.flushing = false;
    }
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.redis && this.redis.status !== 'end') this.redis.disconnect();
    this.redis = null;
  }

  private schedule(): void {
    if (this.timer || this.flushing) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush().then(() => {
        if (this.buffer.length > 0) this.schedule();
      });
    }, this.flushIntervalMs);
    this.timer.unref();
  }

  private async client(): Promise<Redis | null> {
    if (this.redis?.status === 'ready') return this.redis;
    if (Date.now() < this.retryAt) return null;
    if (this.redis && this.redis.status !== 'end') this.redis.disconnect();
    const redis = new Redis({
      ...redisOptions(this.opts.redisUrl),
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      // our own, unref'd, deadline below: ioredis' connect timer would keep a process alive
      connectTimeout: 0,
      retryStrategy: () => null,
      enableReadyCheck: false,
    });
    redis.on('error', () => undefined);
    // the sink must never keep the process alive
    redis.on('connect', () => (redis as unknown as { stream?: { unref?: () => void } }).stream?.unref?.());
    this.redis = redis;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        redis.connect(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('connect timeout')), 2000);
          timer.unref();
        }),
      ]);
      return redis;
    } catch {
      // (disconnecting an ended client arms a reconnect timer in ioredis)
      if (redis.status !== 'end') redis.disconnect();
      this.redis = null;
      this.retryAt = Date.now() + 5000;
      return null;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Stream fields of one pino JSON line: app, level, time, msg and the whole (redacted) line. */
export function fieldsOf(line: string): string[] {
  try {
    const o = JSON.parse(line) as { app?: unknown; level?: unknown; time?: unknown; msg?: unknown };
    const level = typeof o.level === 'number' ? (LEVEL_NAMES[o.level] ?? String(o.level)) : String(o.level ?? 'info');
    return [
      'app',
      String(o.app ?? ''),
      'level',
      level,
      'time',
      String(o.time ?? new Date().toISOString()),
      'msg',
      String(o.msg ?? ''),
      'line',
      line.trimEnd(),
    ];
  } catch {
    return [
      'app',
      '',
      'level',
      'info',
      'time',
      new Date().toISOString(),
      'msg',
      line.trimEnd().slice(0, 2000),
      'line',
      '{}',
    ];
  }
}
