import { Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '@gg/config';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AuthCacheService, type AuthResult } from '../auth/auth-cache.service';
import { GatewayMetrics } from '../http/gateway-metrics';
import { credentialOf } from '../http/request-parts';
import { modelAllowed } from '../limits/model-allowed';
import { RateLimiterService } from '../limits/rate-limiter.service';
import { UsageReporterService } from '../usage/usage-reporter.service';
import type { ErrorWriter, Exchange } from './exchange';
import { Deadlines } from './deadlines';
import { RequestAbort } from './request-abort';
import { BodyTooLargeError, readBody } from './read-body';

const MAX_BODY_BYTES = 128 * 1024 * 1024;

const AUTH_MESSAGES: Record<Exclude<AuthResult, { ok: true }>['reason'], string> = {
  missing:
    "Method doesn't allow unregistered callers. Please use an API key from the gateway (x-goog-api-key header, key parameter or Authorization: Bearer).",
  malformed: 'API key not valid. Please pass a valid API key.',
  unknown: 'API key not valid. Please pass a valid API key.',
  inactive: 'API key is deactivated.',
  expired: 'API key expired. Please renew the API key.',
  unavailable: 'The authentication service is unavailable; try again shortly.',
};

export interface ExchangeStart {
  req: IncomingMessage;
  res: ServerResponse;
  requestId: string;
  startedAt: number;
  startedAtPerf: number;
  method: string;
  model: string | null;
  stream: boolean;
  /** the `key` query parameter, if any */
  queryKey: string | null;
  errors: ErrorWriter;
}

/**
 * What every data-plane route does around the upstream call: authenticate from memory, arm the deadline, read the
 * body, free everything when the client goes, and count the request exactly once.
 */
@Injectable()
export class GatewayPipeline {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly auth: AuthCacheService,
    private readonly usage: UsageReporterService,
    private readonly metrics: GatewayMetrics,
    private readonly limiter: RateLimiterService,
  ) {
    this.deadlines = new Deadlines(config.requestTimeoutMs);
  }

  private readonly deadlines: Deadlines;

  /** Authenticate and read the body, then call `next`; answers the client itself when it cannot go on. */
  start(s: ExchangeStart, next: (ex: Exchange, body: Buffer[]) => void): void {
    const ex: Exchange = {
      req: s.req,
      res: s.res,
      requestId: s.requestId,
      startedAt: s.startedAt,
      startedAtPerf: s.startedAtPerf,
      method: s.method,
      model: s.model,
      stream: s.stream,
      attempts: 0,
      poolKeyId: null,
      upstreamWaitMs: 0,
      ttfbMs: null,
      status: 0,
      promptTokens: 0,
      outputTokens: 0,
      abort: new RequestAbort(),
      deadlineHit: false,
    };
    const result = this.auth.authenticate(credentialOf(s.req.headers, s.queryKey), s.startedAt);
    if (result instanceof Promise) result.then((r) => this.authenticated(ex, r, s.errors, next));
    else this.authenticated(ex, result, s.errors, next);
  }

  /**
   * Usage is applied once per id, so the id must be unique per request: a client's own x-request-id (which it may
   * well reuse) gets a random suffix; the gateway's own ids are unique already.
   */
  private usageIdOf(ex: Exchange): string {
    const sent = ex.req.headers['x-request-id'];
    const clientId = Array.isArray(sent) ? sent[0] : sent;
    return clientId === ex.requestId ? `${ex.requestId}.${randomBytes(6).toString('hex')}` : ex.requestId;
  }

  private authenticated(ex: Exchange, result: AuthResult, errors: ErrorWriter, next: (ex: Exchange, body: Buffer[]) => void): void {
    if (!result.ok) {
      if (result.reason === 'unavailable') errors(ex.res, 503, 'UNAVAILABLE', AUTH_MESSAGES.unavailable, { 'retry-after': '1' });
      else errors(ex.res, 401, 'UNAUTHENTICATED', AUTH_MESSAGES[result.reason]);
      this.metrics.countRequest(ex.method, ex.res.statusCode);
      return;
    }
    ex.record = result.record;
    // From here the request is counted (finish, on close), whatever happens to it: per-key refusals included.
    this.deadlines.add(ex);
    ex.res.once('close', () => {
      this.deadlines.delete(ex);
      if (!ex.res.writableFinished) {
        ex.abort.abort();
        if (!ex.error) ex.error = 'client closed the connection';
      }
      this.finish(ex);
    });
    if (!this.modelAllowed(ex, ex.model, errors)) return;
    const limit = result.record.rateLimitPerMinute;
    if (!limit) return this.readBody(ex, errors, next);
    void this.limiter.hit(result.record.id, limit).then((verdict) => {
      if (verdict.allowed) return this.readBody(ex, errors, next);
      ex.error = 'per-key rate limit exceeded';
      errors(
        ex.res,
        429,
        'RESOURCE_EXHAUSTED',
        `Quota exceeded: this API key allows ${limit} requests per minute. Retry in ${verdict.retryAfter} s.`,
        { 'retry-after': String(verdict.retryAfter) },
      );
    });
  }

  /**
   * The key's model allow-list (cached with the key, no lookup). Routes that learn the model from the body (the
   * OpenAI routes) call this again once they know it. On refusal answers 403 PERMISSION_DENIED and returns false.
   */
  modelAllowed(ex: Exchange, model: string | null, errors: ErrorWriter): boolean {
    if (modelAllowed(ex.record?.allowedModels, model)) return true;
    ex.error = 'model not allowed for this key';
    errors(ex.res, 403, 'PERMISSION_DENIED', `This API key may not use the model ${String(model).slice(0, 100)}.`);
    return false;
  }

  private readBody(ex: Exchange, errors: ErrorWriter, next: (ex: Exchange, body: Buffer[]) => void): void {
    readBody(ex.req, MAX_BODY_BYTES).then(
      (body) => next(ex, body.chunks),
      (e) => {
        if (e instanceof BodyTooLargeError) errors(ex.res, 413, 'INVALID_ARGUMENT', e.message);
        else ex.res.destroy();
      },
    );
  }

  /** One usage record per authenticated request, whatever its outcome. */
  private finish(ex: Exchange): void {
    if (!ex.record) return;
    const status = ex.status || ex.res.statusCode || 499;
    this.metrics.countRequest(ex.method, status, (Date.now() - ex.startedAt) / 1000);
    this.usage.record({
      requestId: this.usageIdOf(ex),
      at: new Date(ex.startedAt).toISOString(),
      userId: ex.record.userId,
      authKeyId: ex.record.id,
      poolKeyId: ex.poolKeyId,
      method: ex.method,
      model: ex.model,
      stream: ex.stream,
      status,
      attempts: ex.attempts,
      latencyMs: Date.now() - ex.startedAt,
      ttfbMs: ex.ttfbMs,
      promptTokens: ex.promptTokens,
      outputTokens: ex.outputTokens,
      ...(ex.error && status >= 400 ? { error: scrubSecrets(ex.error).slice(0, 300) } : {}),
    });
  }
}

/** Pool keys and user keys never reach the request log, even inside an error text that echoes one. */
function scrubSecrets(text: string): string {
  return text.replace(/AIza[0-9A-Za-z_-]{20,}/g, 'AIza…').replace(/gg-[0-9A-Za-z_-]{20,}/g, 'gg-…');
}
