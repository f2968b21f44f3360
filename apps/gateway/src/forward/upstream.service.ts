import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@gg/config';
import type { Readable } from 'node:stream';
import { Pool, type Dispatcher } from 'undici';
import type { RequestAbort } from './request-abort';

/**
 * The request's deadline is the gateway's own (Deadlines, 100 ms precise); undici's headers timer, about a second
 * precise, only backs it up this much later, so that the two never race (a headers timeout that fired first was taken
 * for a network error: the request was retried on another key with no time left, and its failures blamed on it).
 */
export const DEADLINE_BACKSTOP_MS = 2_000;

/**
 * The connection pool to the Gemini origin. undici on the forwarding path (raw bytes, no decompression, keep-alive);
 * see the README's performance section for the measurements behind the choice.
 */
@Injectable()
export class UpstreamService implements OnApplicationShutdown {
  readonly origin: string;
  /** path prefix of GEMINI_BASE_URL, if any */
  readonly basePath: string;
  private readonly pool: Pool;
  private readonly requestTimeoutMs: number;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.requestTimeoutMs = config.requestTimeoutMs;
    const u = new URL(config.geminiBaseUrl);
    this.origin = u.origin;
    this.basePath = u.pathname.replace(/\/+$/, '');
    this.pool = new Pool(this.origin, {
      connections: null,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 120_000,
      connect: { timeout: config.connectTimeoutMs },
      bodyTimeout: config.idleTimeoutMs,
    });
  }

  request(opts: {
    method: string;
    path: string;
    headers: Record<string, string | string[]>;
    body: Buffer[] | Readable | null;
    /** an AbortSignal, or an EventEmitter with `aborted` and an 'abort' event (both accepted by undici) */
    signal: AbortSignal | RequestAbort;
    /**
     * ms to wait for the response headers (undici's timers are about a second precise); by default the request's
     * deadline plus DEADLINE_BACKSTOP_MS: the deadline itself is the gateway's (Deadlines), which aborts `signal`
     */
    headersTimeout?: number;
  }): Promise<Dispatcher.ResponseData> {
    return this.pool.request({
      method: opts.method as Dispatcher.HttpMethod,
      path: this.basePath + opts.path,
      headers: opts.headers,
      // an array of buffers is an iterable undici accepts, though its types do not say so
      body: bodyOf(opts.body) as Buffer | Readable | null,
      signal: opts.signal,
      headersTimeout: opts.headersTimeout ?? this.requestTimeoutMs + DEADLINE_BACKSTOP_MS,
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool.close().catch(() => undefined);
  }
}

/** undici writes an iterable of buffers as is (no concatenation of a large body) and pipes a stream. */
function bodyOf(body: Buffer[] | Readable | null): Buffer | Buffer[] | Readable | null {
  if (!body) return null;
  if (!Array.isArray(body)) return body;
  return body.length === 0 ? null : body.length === 1 ? body[0] : body;
}
