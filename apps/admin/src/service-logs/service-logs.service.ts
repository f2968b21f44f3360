import { Inject, Injectable, type OnApplicationShutdown, type OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, redisOptions, type AppConfig } from '@gg/config';
import { ErrorCode, type ServiceLogLine } from '@gg/contracts';
import { DomainError, ProbesService, runOutsideRequest, serviceLogsKey, type ProvenCaller } from '@gg/nest-common';
import type { Request, Response } from 'express';
import Redis from 'ioredis';
import { Gauge } from 'prom-client';
import { SessionLiveness } from '../security/session-liveness.service';
import { matches, toServiceLogLine, type ServiceLogFilter } from './service-log-filter';

const HEARTBEAT_MS = 15_000;
/** An open stream asks auth this often whether its session is still live (logout, deactivation, role change). */
const SESSION_RECHECK_MS = 5_000;
const MAX_BUFFERED_BYTES = 1024 * 1024;
/** entries read per XREVRANGE while looking for `limit` matches; at most the whole capped stream */
const PAGE = 500;
const SCAN_MAX = 12_000;

type Subscriber = { filter: (l: ServiceLogLine) => boolean; send: (l: ServiceLogLine) => void; close: () => void };

/**
 * Reads the capped `${ns}:service-logs` stream that every app's logger feeds: recent lines by query, and live
 * lines to the open `/api/service-logs/stream` responses (one blocking reader per admin replica while any is open).
 */
@Injectable()
export class ServiceLogsService implements OnModuleDestroy, OnApplicationShutdown {
  private readonly key: string;
  private readonly redis: Redis;
  private reader: Redis | null = null;
  private readonly subscribers = new Set<Subscriber>();
  private closing = false;
  private readonly clients: Gauge;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    probes: ProbesService,
    private readonly sessions: SessionLiveness,
  ) {
    this.key = serviceLogsKey(config.redisNamespace);
    this.redis = new Redis({ ...redisOptions(config.redisUrl), lazyConnect: true, maxRetriesPerRequest: 1 });
    this.redis.on('error', () => undefined);
    this.clients = new Gauge({
      name: 'admin_service_log_stream_clients',
      help: 'open /api/service-logs/stream responses',
      registers: [probes.registry],
    });
  }

  /** The newest lines matching the filter, newest first. */
  async recent(filter: ServiceLogFilter, limit = 200): Promise<ServiceLogLine[]> {
    const keep = matches(filter);
    const out: ServiceLogLine[] = [];
    let end = '+';
    for (let scanned = 0; scanned < SCAN_MAX && out.length < limit; scanned += PAGE) {
      const page = await this.redis.xrevrange(this.key, end, '-', 'COUNT', PAGE);
      for (const [id, flat] of page) {
        const line = toServiceLogLine(id, flat);
        if (line && keep(line)) out.push(line);
        if (out.length >= limit) break;
      }
      if (page.length < PAGE) break;
      end = `(${page[page.length - 1][0]}`;
    }
    return out;
  }

  /**
   * `text/event-stream` of new lines matching the filter, until the client goes, the app stops or the caller's
   * session ends (checked every SESSION_RECHECK_MS, as the request-log stream does).
   */
  stream(caller: ProvenCaller, filter: ServiceLogFilter, req: Request, res: Response): void {
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache, no-transform');
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    res.write('retry: 3000\n\n');

    let closed = false;
    const heartbeat = setInterval(() => write(': ping\n\n'), HEARTBEAT_MS);
    const recheck = setInterval(() => {
      this.sessions.assertLive(caller).catch((e: unknown) => {
        // auth said no: the session is over; auth not answering does not end a stream
        if (e instanceof DomainError && e.code !== ErrorCode.Unavailable) sub.close();
      });
    }, SESSION_RECHECK_MS);
    const write = (chunk: string): void => {
      if (closed) return;
      res.write(chunk);
      if (res.writableLength > MAX_BUFFERED_BYTES) sub.close();
    };
    const sub: Subscriber = {
      filter: matches(filter),
      send: (line) => write(`id: ${line.id}\ndata: ${JSON.stringify(line)}\n\n`),
      close: () => {
        if (closed) return;
        closed = true;
        clearInterval(heartbeat);
        clearInterval(recheck);
        this.subscribers.delete(sub);
        this.clients.dec();
        res.end();
      },
    };
    this.subscribers.add(sub);
    this.clients.inc();
    req.on('close', sub.close);
    res.on('close', sub.close);
    // one reader for every stream: not the work of the request that happened to open the first
    if (!this.reader) void runOutsideRequest(() => this.follow());
  }

  /** One blocking XREAD loop while anyone listens. */
  private async follow(): Promise<void> {
    const reader = new Redis({ ...redisOptions(this.config.redisUrl), maxRetriesPerRequest: null });
    reader.on('error', () => undefined);
    this.reader = reader;
    let last = '$';
    try {
      while (!this.closing && this.subscribers.size > 0) {
        const got = await reader.xread('COUNT', 200, 'BLOCK', 2000, 'STREAMS', this.key, last).catch(async () => {
          if (!this.closing) await new Promise((r) => setTimeout(r, 1000));
          return null;
        });
        for (const [, entries] of got ?? []) {
          for (const [id, flat] of entries) {
            last = id;
            const line = toServiceLogLine(id, flat);
            if (!line) continue;
            for (const s of this.subscribers) if (s.filter(line)) s.send(line);
          }
        }
      }
    } finally {
      reader.disconnect();
      if (this.reader === reader) this.reader = null;
      if (!this.closing && this.subscribers.size > 0) void this.follow();
    }
  }

  /** End every stream so the HTTP server can close; stop the reader. */
  onModuleDestroy(): void {
    this.closing = true;
    for (const s of [...this.subscribers]) s.close();
    this.reader?.disconnect();
  }

  onApplicationShutdown(): void {
    this.redis.disconnect();
  }
}
