import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, maskProxyUrl, type AppConfig } from '@gg/config';
import { proxyDispatcher, runOutsideRequest, UPSTREAM_PROXY_FAILURE } from '@gg/nest-common';
import type { Readable } from 'node:stream';
import { Pool, type Dispatcher } from 'undici';
import { RuntimeSettings } from '../settings/runtime-settings.service';
import { GatewayMetrics } from '../http/gateway-metrics';
import type { RequestAbort } from './request-abort';

/**
 * The request's deadline is the gateway's own (Deadlines, 100 ms precise); undici's headers timer, about a second
 * precise, only backs it up this much later, so that the two never race (a headers timeout that fired first was taken
 * for a network error: the request was retried on another key with no time left, and its failures blamed on it).
 */
export const DEADLINE_BACKSTOP_MS = 2_000;

/**
 * When the connection pool is replaced. Only connection-level failures count (see isConnectionFailure), and only a
 * run of them with no success in between: one success proves the pool can reach the origin.
 */
export const HEAL = {
  /**
   * failures in a row: one client request makes up to MAX_ATTEMPTS (3 by default) attempts, each on a connection of
   * its own when the origin is unreachable, so 5 is more than one unlucky request (a keep-alive socket the origin
   * closed, then a retry that met the same) and is still reached within a second or two of an outage under traffic
   */
  failures: 5,
  /**
   * the run must fit in this window (ms), so that failures of an old incident do not add up with a new one on a quiet
   * gateway; at least `failures` connect timeouts, so that one client at a time behind a black-holed origin (each
   * attempt failing only after CONNECT_TIMEOUT_SECONDS) still reaches the threshold
   */
  minWindowMs: 60_000,
  /**
   * at most one replacement per this long (ms): a new pool needs up to a connect timeout to prove anything, and an
   * outage must not churn pools nor flood the log; doubled after each replacement that no success followed, up to
   * maxIntervalMs (one warn line a minute through a long outage), and back to this after a success
   */
  minIntervalMs: 5_000,
  maxIntervalMs: 60_000,
};

/**
 * Error codes of a request that never got a response because of its connection: refused, reset, closed before the
 * response, connect timeout, name resolution, TLS. Not the gateway's own aborts (UND_ERR_ABORTED), not undici's
 * headers and body timers (the gateway's deadlines and UPSTREAM_FIRST_BYTE_TIMEOUT_SECONDS), not HTTP statuses.
 */
const CONNECTION_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  // certificate checks (Node reports OpenSSL's verify codes as they are)
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  // the upstream proxy failed (UpstreamProxyError): a pool whose way through it is stuck heals the same way
  UPSTREAM_PROXY_FAILURE,
]);

/** Whether an error of a request (that had no response) says its connection failed. */
export function isConnectionFailure(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  return (
    CONNECTION_CODES.has(code) || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_') || code.startsWith('CERT_')
  );
}

/**
 * Counts the current pool's connection failures and says when to replace it: `HEAL.failures` in a row (no success
 * between) within the window, and not sooner than the interval after the previous replacement. Times are passed in.
 */
export class ConnectionHealth {
  /** times of the latest failures since the last success or replacement, oldest first (at most `failures`) */
  private readonly run: number[] = [];
  /** every failure since the last success or replacement, window or not (for the log) */
  private inARow = 0;
  private replacedAt = -Infinity;
  private intervalMs: number;
  /** replacements since the last success */
  private replacementsInARow = 0;

  constructor(
    private readonly policy: { failures: number; windowMs: number; minIntervalMs: number; maxIntervalMs: number },
  ) {
    this.intervalMs = policy.minIntervalMs;
  }

  success(): void {
    if (this.inARow > 0) {
      this.run.length = 0;
      this.inARow = 0;
    }
    if (this.replacementsInARow > 0) {
      this.replacementsInARow = 0;
      this.intervalMs = this.policy.minIntervalMs;
    }
  }

  /**
   * One connection failure at `now`. Returns 0, or when the pool is to be replaced now, the failures in a row that
   * led to it (the count starts again).
   */
  failure(now: number): number {
    const run = this.run;
    this.inARow++;
    run.push(now);
    while (run[0] <= now - this.policy.windowMs) run.shift();
    if (run.length > this.policy.failures) run.shift();
    if (run.length < this.policy.failures || now - this.replacedAt < this.intervalMs) return 0;
    // the first replacement after a success may come soonest; each further one with no success between, twice as late
    this.intervalMs =
      this.replacementsInARow === 0
        ? this.policy.minIntervalMs
        : Math.min(this.intervalMs * 2, this.policy.maxIntervalMs);
    this.replacementsInARow++;
    this.replacedAt = now;
    const failures = this.inARow;
    run.length = 0;
    this.inARow = 0;
    return failures;
  }
}

/**
 * The connection pool to the Gemini origin. undici on the forwarding path (raw bytes, no decompression, keep-alive);
 * see the README's performance section for the measurements behind the choice.
 *
 * It heals itself: it watches the outcome of its own requests, and after a run of connection failures (ConnectionHealth)
 * new requests go to a new pool while the old one drains (close: its requests in flight finish) and is destroyed
 * after every request it could still hold has passed its deadline. A pool that cannot reach the origin usually
 * reconnects on its own; the replacement is for the one that does not (sockets left in a bad state, a peer that
 * resets every reused connection), at the cost of a few fresh connections.
 */
@Injectable()
export class UpstreamService implements OnApplicationShutdown {
  readonly origin: string;
  /** path prefix of GEMINI_BASE_URL, if any */
  readonly basePath: string;
  private pool: Dispatcher;
  private readonly requestTimeoutMs: number;
  private readonly options: Pool.Options;
  private readonly connectTimeoutMs: number;
  /** UPSTREAM_PROXY, or null: direct */
  private readonly proxy: string | null;
  /** the proxy as it may be shown (maskProxyUrl), or null */
  readonly proxyLabel: string | null;
  private readonly health: ConnectionHealth;
  /** replaced pools still draining, with the timer that destroys each */
  private readonly draining = new Map<Dispatcher, NodeJS.Timeout>();
  private readonly logger = new Logger(UpstreamService.name);

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly metrics: GatewayMetrics,
    private readonly settings?: RuntimeSettings,
  ) {
    this.requestTimeoutMs = config.requestTimeoutMs;
    const u = new URL(config.geminiBaseUrl);
    this.origin = u.origin;
    this.basePath = u.pathname.replace(/\/+$/, '');
    this.options = {
      // null: no limit; a replaced pool keeps its connections in flight while they drain, so up to twice this briefly
      connections: config.upstreamConnections,
      // one request per connection: answers take seconds to minutes, and a request pipelined behind one would wait
      // for it (and fail with it)
      pipelining: 1,
      keepAliveTimeout: config.upstreamKeepAliveMs,
      // an origin's Keep-Alive hint may shorten it, never lengthen it: the setting is there for a NAT or proxy on the
      // way that drops idle connections silently after a while
      keepAliveMaxTimeout: config.upstreamKeepAliveMs,
      connect: { timeout: config.connectTimeoutMs },
      bodyTimeout: config.idleTimeoutMs,
    };
    this.connectTimeoutMs = config.connectTimeoutMs;
    this.proxy = config.upstreamProxy;
    this.proxyLabel = this.proxy ? maskProxyUrl(this.proxy) : null;
    this.pool = this.newPool();
    this.health = new ConnectionHealth({
      ...HEAL,
      windowMs: Math.max(HEAL.minWindowMs, HEAL.failures * config.connectTimeoutMs),
    });
  }

  /** REQUEST_TIMEOUT_SECONDS as the runtime settings have it now */
  private get timeoutMs(): number {
    return this.settings?.requestTimeoutMs ?? this.requestTimeoutMs;
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
    /** a proxy of the list (ProxyRouter) instead of this service's own pool; its failures rest the proxy instead */
    dispatcher?: Dispatcher;
  }): Promise<Dispatcher.ResponseData> {
    const pool = opts.dispatcher ?? this.pool;
    // Dispatched outside the request context: a connection opened now serves later requests too, and its events
    // (the answer's body chunks among them) run in the context it was opened in, which must not be this request's.
    // What awaits the answer resumes in the request's context all the same.
    return runOutsideRequest(() =>
      pool.request({
        // a Pool is bound to the origin already; a proxy's dispatcher is told it
        origin: this.origin,
        method: opts.method as Dispatcher.HttpMethod,
        path: this.basePath + opts.path,
        headers: opts.headers,
        // an array of buffers is an iterable undici accepts, though its types do not say so
        body: bodyOf(opts.body) as Buffer | Readable | null,
        signal: opts.signal,
        headersTimeout: opts.headersTimeout ?? this.timeoutMs + DEADLINE_BACKSTOP_MS,
      }),
    ).then(
      (up) => {
        // a replaced pool's outcomes say nothing about the current one
        if (pool === this.pool) this.health.success();
        return up;
      },
      (e: unknown) => {
        if (pool === this.pool && this.isPoolFailure(e, opts)) this.failed(e);
        throw e;
      },
    );
  }

  async onApplicationShutdown(): Promise<void> {
    const pools = [this.pool, ...this.draining.keys()];
    for (const timer of this.draining.values()) clearTimeout(timer);
    this.draining.clear();
    await Promise.all(pools.map((p) => p.close().catch(() => undefined)));
  }

  /** A connection failure of the pool's own: not one the gateway caused by aborting, nor the client's body failing. */
  private isPoolFailure(e: unknown, opts: { body: Buffer[] | Readable | null; signal: { aborted: boolean } }): boolean {
    if (opts.signal.aborted) return false;
    if (opts.body && !Array.isArray(opts.body) && opts.body.errored) return false;
    return isConnectionFailure(e);
  }

  private failed(e: unknown): void {
    const failures = this.health.failure(Date.now());
    if (failures === 0) return;
    const old = this.pool;
    this.pool = this.newPool();
    this.drain(old);
    this.metrics.upstreamClientRebuilds.inc();
    // the origin, the proxy masked and the error code only: no path, header or message (messages may carry addresses)
    const via = this.proxyLabel ? ` via ${this.proxyLabel}` : '';
    this.logger.warn(
      `upstream connection pool to ${this.origin}${via} replaced after ${failures} connection failures in a row (last: ${(e as { code: string }).code}); the old one drains`,
    );
  }

  /** A connection pool to the origin through `proxy` (one of the proxy list), with this service's settings. */
  proxyPool(proxy: string): Dispatcher {
    return proxyDispatcher(proxy, this.origin, { ...this.options, connectTimeoutMs: this.connectTimeoutMs });
  }

  /** The connection pool to the origin: direct, or through UPSTREAM_PROXY with the same settings. */
  private newPool(): Dispatcher {
    if (!this.proxy) return new Pool(this.origin, this.options);
    return proxyDispatcher(this.proxy, this.origin, { ...this.options, connectTimeoutMs: this.connectTimeoutMs });
  }

  private drain(old: Dispatcher): void {
    const timer = setTimeout(() => {
      this.draining.delete(old);
      old.destroy().catch(() => undefined);
      // every request sent on a replaced pool has ended by then: its deadline aborted it, or undici's backstop did
    }, this.timeoutMs + DEADLINE_BACKSTOP_MS);
    timer.unref();
    this.draining.set(old, timer);
    old
      .close()
      .catch(() => undefined)
      .finally(() => {
        clearTimeout(timer);
        this.draining.delete(old);
      });
  }
}

/** undici writes an iterable of buffers as is (no concatenation of a large body) and pipes a stream. */
function bodyOf(body: Buffer[] | Readable | null): Buffer | Buffer[] | Readable | null {
  if (!body) return null;
  if (!Array.isArray(body)) return body;
  return body.length === 0 ? null : body.length === 1 ? body[0] : body;
}
