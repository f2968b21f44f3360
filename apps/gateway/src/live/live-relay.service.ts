import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@gg/config';
import type { AttemptOutcome, AuthKeyRecord, KeyChangedEvent, SnapshotKey } from '@gg/contracts';
import { hashUserKey, type UpstreamProxyError } from '@gg/nest-common';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { AuthCacheService, type AuthResult } from '../auth/auth-cache.service';
import { AttemptRunner } from '../forward/attempt-runner.service';
import { AUTH_MESSAGES, scrubSecrets, usageIdFor } from '../forward/pipeline.service';
import { GatewayMetrics } from '../http/gateway-metrics';
import { credentialOf } from '../http/request-parts';
import { modelAllowed } from '../limits/model-allowed';
import { RateLimiterService } from '../limits/rate-limiter.service';
import { PoolSnapshotService } from '../pool/pool-snapshot.service';
import { UsageReporterService } from '../usage/usage-reporter.service';
import { GatewayTransactions } from '../forward/transactions';
import { LiveProxies, type LiveVia } from './live-proxies.service';
import { RuntimeSettings } from '../settings/runtime-settings.service';
import { LiveSession, type LiveHost } from './live-session';
import { liveTargetOf, refuseUpgrade, type LiveTarget } from './live-wire';

const METHOD = 'bidiGenerateContent';
/** how long a client may take to send its setup once its socket is accepted */
const CLIENT_SETUP_TIMEOUT_MS = 30_000;
/** a client that has not answered a ping within this long is cut (browsers and the SDK answer pings themselves) */
const PING_INTERVAL_MS = 30_000;
/** on shutdown, how long sessions told to go (1001) may take to close before their sockets are cut */
const CLOSE_GRACE_MS = 2_000;

/**
 * The Live API (BidiGenerateContent over WebSocket): the upgrade is authenticated like a REST request (the user
 * key, its address's failure limit, its rate limit) before the 101; the session's setup is checked against the key's
 * model list; a pool key chosen like for REST carries it (see LiveSession). Sessions end on their own, when their
 * user key is revoked or deactivated (auth.key.changed), or when the gateway shuts down (1001).
 */
@Injectable()
export class LiveRelay implements LiveHost {
  private readonly logger = new Logger('Live');
  private readonly wss: WebSocketServer;
  private readonly sessions = new Set<LiveSession>();
  readonly geminiBaseUrl: string;
  readonly clientSetupTimeoutMs = CLIENT_SETUP_TIMEOUT_MS;
  readonly pingIntervalMs = PING_INTERVAL_MS;
  readonly maxUpstreamMessageBytes: number;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly auth: AuthCacheService,
    private readonly limiter: RateLimiterService,
    private readonly pool: PoolSnapshotService,
    private readonly runner: AttemptRunner,
    private readonly usage: UsageReporterService,
    private readonly metrics: GatewayMetrics,
    private readonly transactions: GatewayTransactions,
    private readonly proxies: LiveProxies,
    private readonly settings: RuntimeSettings,
  ) {
    this.geminiBaseUrl = config.geminiBaseUrl;
    this.maxUpstreamMessageBytes = config.maxAnswerBodyBytes;
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: config.maxRequestBodyBytes,
    });
  }

  get maxAttempts(): number {
    return this.settings.values.maxAttempts;
  }

  /** the upstream must accept the socket and answer the setup within the first-byte limit when one is set */
  get upstreamSetupTimeoutMs(): number {
    return this.settings.firstByteTimeoutMs ?? this.settings.requestTimeoutMs;
  }

  /** Open sessions (for the drain). */
  get size(): number {
    return this.sessions.size;
  }

  /**
   * An `upgrade` on the public port. Returns false when the path is not a Live path (the caller answers).
   * Everything refused before the 101 gets an HTTP answer in Google's shape on the raw socket.
   */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, requestId: string): boolean {
    const target = liveTargetOf(req.url ?? '/');
    if (!target) return false;
    const startedAt = Date.now();
    if (target.constrained) {
      // an ephemeral token is minted on a pool key by Google; the gateway mints none and cannot check one
      this.metrics.countRequest(METHOD, 403);
      this.transactions.refused(req, requestId, startedAt, METHOD, null, true, 403, 'ephemeral token');
      refuseUpgrade(
        socket,
        403,
        'PERMISSION_DENIED',
        'Ephemeral tokens are not supported by the gateway: connect to BidiGenerateContent with a gateway API key.',
        requestId,
      );
      return true;
    }
    const refused = (r: Exclude<AuthResult, { ok: true }>): void => {
      const status = r.reason === 'unavailable' ? 503 : r.reason === 'throttled' ? 429 : 401;
      this.transactions.refused(req, requestId, startedAt, METHOD, null, true, status, r.reason);
      if (r.reason === 'unavailable') {
        this.metrics.countRequest(METHOD, 503);
        return refuseUpgrade(socket, 503, 'UNAVAILABLE', AUTH_MESSAGES.unavailable, requestId, { 'retry-after': '1' });
      }
      if (r.reason === 'throttled') {
        this.metrics.countRequest(METHOD, 429);
        return refuseUpgrade(socket, 429, 'RESOURCE_EXHAUSTED', AUTH_MESSAGES.throttled, requestId, {
          'retry-after': String(r.retryAfter),
        });
      }
      this.metrics.countRequest(METHOD, 401);
      refuseUpgrade(socket, 401, 'UNAUTHENTICATED', AUTH_MESSAGES[r.reason], requestId);
    };
    const key = credentialOf(req.headers, target.queryKey);
    const authenticated = (r: AuthResult): void => {
      if (!r.ok) return refused(r);
      // a key passed, so there was one
      if (key !== null) this.limited(req, socket, head, requestId, target, key, r.record, startedAt);
    };
    const fail = (e: unknown): void => {
      this.logger.error(`live upgrade ${requestId} failed: ${scrubSecrets(String((e as Error)?.message ?? e))}`);
      refuseUpgrade(socket, 500, 'INTERNAL', 'The gateway failed to handle the request.', requestId);
    };
    try {
      const result = this.auth.authenticate(key, startedAt, req);
      if (result instanceof Promise) result.then(authenticated).catch(fail);
      else authenticated(result);
    } catch (e) {
      fail(e);
    }
    return true;
  }

  /** The key's rate limit (a session counts as one request), then the upgrade. */
  private limited(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    requestId: string,
    target: LiveTarget,
    key: string,
    record: AuthKeyRecord,
    startedAt: number,
  ): void {
    const limit = record.rateLimitPerMinute;
    const go = (): void => this.accept(req, socket, head, requestId, target, key, record);
    if (!limit) return go();
    this.limiter
      .hit(record.id, limit)
      .then((verdict) => {
        if (verdict.allowed) return go();
        const status = verdict.unavailable ? 503 : 429;
        const error = verdict.unavailable
          ? 'per-key rate limit could not be checked (RATE_LIMIT_FAIL_MODE=closed)'
          : 'per-key rate limit exceeded';
        this.refusedAfterAuth(req, requestId, record, startedAt, status, error);
        const retry = { 'retry-after': String(verdict.retryAfter) };
        if (verdict.unavailable) {
          const message = 'The rate limit of this API key cannot be checked right now. Retry shortly.';
          return refuseUpgrade(socket, 503, 'UNAVAILABLE', message, requestId, retry);
        }
        const message = `Quota exceeded: this API key allows ${limit} requests per minute. Retry in ${verdict.retryAfter} s.`;
        refuseUpgrade(socket, 429, 'RESOURCE_EXHAUSTED', message, requestId, retry);
      })
      .catch((e: unknown) => {
        this.logger.error(`live rate limit ${requestId} failed: ${scrubSecrets(String((e as Error)?.message ?? e))}`);
        refuseUpgrade(socket, 500, 'INTERNAL', 'The gateway failed to handle the request.', requestId);
      });
  }

  private accept(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    requestId: string,
    target: LiveTarget,
    key: string,
    record: AuthKeyRecord,
  ): void {
    if (socket.destroyed) return;
    // ws answers a malformed handshake (wrong method, version or key header) itself with a 4xx
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const session = new LiveSession(
        this,
        ws,
        record,
        key,
        hashUserKey(key, this.config.keyHashSecret),
        req,
        requestId,
        target,
      );
      this.sessions.add(session);
      this.metrics.open.inc();
      session.start();
    });
  }

  /**
   * auth says user keys changed (the cache has just dropped them): every open session of those keys (of every key
   * when the event names none) has its key checked again, and is closed with 1008 when it is no longer valid or its
   * model is no longer allowed. An auth service that cannot answer closes nothing.
   */
  keyChanged(event: KeyChangedEvent): void {
    if (this.sessions.size === 0) return;
    const hashes = event.hashes && event.hashes.length > 0 ? new Set(event.hashes) : null;
    for (const s of this.sessions) {
      if (hashes && !hashes.has(s.userKeyHash)) continue;
      Promise.resolve(this.auth.authenticate(s.userKey, Date.now(), s.req))
        .then((r) => {
          if (!r.ok) {
            if (r.reason === 'unavailable' || r.reason === 'throttled') return;
            return s.end(1008, AUTH_MESSAGES[r.reason], `user key ${r.reason} during the session`);
          }
          if (s.model !== null && !modelAllowed(r.record.allowedModels, s.model)) {
            s.end(1008, `This API key may not use the model ${s.model.slice(0, 60)}.`, 'model no longer allowed');
          }
        })
        .catch((e: unknown) => this.logger.warn(`live session recheck failed: ${(e as Error).message}`));
    }
  }

  /** Shutdown: every session is told to go (1001); resolves once they closed, or their sockets are cut. */
  async closeAll(): Promise<void> {
    if (this.sessions.size === 0) return;
    for (const s of this.sessions) s.end(1001, 'The gateway is shutting down.', 'gateway shut down');
    const deadline = Date.now() + CLOSE_GRACE_MS;
    while (this.sessions.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const s of [...this.sessions]) s.terminate();
  }

  // LiveHost: what a session uses of the gateway

  modelAllowed(record: AuthKeyRecord, model: string): boolean {
    return modelAllowed(record.allowedModels, model);
  }

  resolveModel(model: string): string | null {
    const catalogue = this.settings.catalogue;
    if (!catalogue.active) return model;
    return catalogue.refuses(model) ? null : catalogue.resolve(model);
  }

  /** As the REST runner chooses: none while the pool pauses, else the selector's pick for the model. */
  choose(model: string, exclude: ReadonlySet<string>): SnapshotKey | null {
    const now = Date.now();
    if (this.pool.pausedUntil(now) > 0) return null;
    return this.pool.pick(model, now, exclude);
  }

  acquire(keyId: string): void {
    this.pool.acquire(keyId);
  }

  release(keyId: string): void {
    this.pool.release(keyId);
  }

  report(o: AttemptOutcome): void {
    this.runner.report(o);
  }

  via(key: SnapshotKey, tried: ReadonlySet<string>): LiveVia | null {
    return this.proxies.via(key, tried);
  }

  proxyFailed(via: LiveVia, e: UpstreamProxyError, last: boolean): void {
    this.proxies.failed(via, e, last);
  }

  /** One usage record per session, whatever its end. */
  ended(s: LiveSession): void {
    if (!this.sessions.delete(s)) return;
    this.metrics.open.dec();
    const now = Date.now();
    const status = s.status || 499;
    this.metrics.countRequest(METHOD, status, (now - s.startedAt) / 1000);
    if (this.transactions.enabled) {
      const { req, requestId, startedAt, model, record, poolKeyId, tried, ttfbMs, promptTokens, outputTokens } = s;
      const source = { req, requestId, startedAt, method: METHOD, model, stream: true, record, poolKeyId, tried };
      this.transactions.ended({ ...source, ttfbMs, promptTokens, outputTokens, error: s.error }, status, now, true);
    }
    this.usage.record({
      requestId: usageIdFor(s.req, s.requestId),
      at: new Date(s.startedAt).toISOString(),
      userId: s.record.userId,
      authKeyId: s.record.id,
      poolKeyId: s.poolKeyId,
      method: METHOD,
      model: s.model,
      stream: true,
      status,
      attempts: s.attempts,
      latencyMs: now - s.startedAt,
      ttfbMs: s.ttfbMs,
      promptTokens: s.promptTokens,
      outputTokens: s.outputTokens,
      ...(s.error ? { error: scrubSecrets(s.error).slice(0, 300) } : {}),
    });
  }

  /** A session refused after its key passed (rate limit) is counted like a REST request would be. */
  private refusedAfterAuth(
    req: IncomingMessage,
    requestId: string,
    record: AuthKeyRecord,
    startedAt: number,
    status: number,
    error: string,
  ): void {
    this.metrics.countRequest(METHOD, status, (Date.now() - startedAt) / 1000);
    if (this.transactions.enabled) {
      const source = { req, requestId, startedAt, method: METHOD, model: null, stream: true, record, poolKeyId: null };
      this.transactions.ended(
        { ...source, ttfbMs: null, promptTokens: 0, outputTokens: 0, error },
        status,
        Date.now(),
        true,
      );
    }
    this.usage.record({
      requestId: usageIdFor(req, requestId),
      at: new Date(startedAt).toISOString(),
      userId: record.userId,
      authKeyId: record.id,
      poolKeyId: null,
      method: METHOD,
      model: null,
      stream: true,
      status,
      attempts: 0,
      latencyMs: Date.now() - startedAt,
      ttfbMs: null,
      promptTokens: 0,
      outputTokens: 0,
      error,
    });
  }
}
