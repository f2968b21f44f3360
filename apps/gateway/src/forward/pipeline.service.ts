import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '@gg/config';
import { telemetryEnabled, traceparentOf } from '@gg/nest-common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { AuthCacheService, type AuthResult } from '../auth/auth-cache.service';
import { GatewayMetrics } from '../http/gateway-metrics';
import { credentialOf } from '../http/request-parts';
import type { Refusal } from '../http/target';
import { modelAllowed, modelSourceOf } from '../limits/model-allowed';
import { RateLimiterService } from '../limits/rate-limiter.service';
import { UsageReporterService } from '../usage/usage-reporter.service';
import type { ErrorWriter, Exchange } from './exchange';
import { RuntimeSettings } from '../settings/runtime-settings.service';
import { Deadlines } from './deadlines';
import { RequestAbort } from './request-abort';
import { BodyBudget, BodyBudgetError, BodyTooLargeError, readBody, streamBody } from './read-body';
import { scrubSecrets } from './scrub';
import { traceExchange } from './tracing';
import { GatewayTransactions } from './transactions';

export { scrubSecrets };

/** What a route does with the request once it is authenticated: its promise settles when the body is no longer needed. */
export type ExchangeNext = (ex: Exchange, body: Buffer[] | Readable) => Promise<void>;

/** What a refused user key is told (the Live relay says the same on its handshake). */
export const AUTH_MESSAGES: Record<Exclude<AuthResult, { ok: true }>['reason'], string> = {
  missing:
    "Method doesn't allow unregistered callers. Please use an API key from the gateway (x-goog-api-key header, key parameter or Authorization: Bearer).",
  malformed: 'API key not valid. Please pass a valid API key.',
  unknown: 'API key not valid. Please pass a valid API key.',
  inactive: 'API key is deactivated.',
  expired: 'API key expired. Please renew the API key.',
  unavailable: 'The authentication service is unavailable; try again shortly.',
  throttled: 'Too many requests with an invalid API key from this address. Retry later.',
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
  /** the route's body limit in bytes */
  maxBodyBytes: number;
  /** pass the body on as a stream (uploads: never buffered, never retried) instead of reading it */
  streamBody?: boolean;
  /** what one body byte costs of the body budget (default 1; the OpenAI routes hold a body several times over) */
  bodyMemoryFactor?: number;
  /** a route refused to every key: answered once the key passed (counted and logged), before the body is read */
  refusal?: Refusal | null;
}

/**
 * What every data-plane route does around the upstream call: authenticate from memory, arm the deadline, read the
 * body, free everything when the client goes, and count the request exactly once.
 */
@Injectable()
export class GatewayPipeline {
  private readonly logger = new Logger('Gateway');
  /** bytes of request bodies held in memory, over every request (BODY_MEMORY_BUDGET_MB) */
  readonly bodies: BodyBudget;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly auth: AuthCacheService,
    private readonly usage: UsageReporterService,
    private readonly metrics: GatewayMetrics,
    private readonly limiter: RateLimiterService,
    private readonly transactions: GatewayTransactions,
    private readonly settings: RuntimeSettings,
  ) {
    this.deadlines = new Deadlines(() => this.settings.requestTimeoutMs);
    this.bodies = new BodyBudget(config.bodyMemoryBudgetBytes);
  }

  private readonly deadlines: Deadlines;
  private readonly tracing = telemetryEnabled();

  /** Authenticate and read the body, then call `next`; answers the client itself when it cannot go on. */
  start(s: ExchangeStart, next: ExchangeNext): void {
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
    // with tracing on, the whole chain runs in the request's span (an auth lookup's RPC continues it)
    if (this.tracing) traceExchange(ex, () => this.authenticate(ex, s, next));
    else this.authenticate(ex, s, next);
  }

  private authenticate(ex: Exchange, s: ExchangeStart, next: ExchangeNext): void {
    try {
      const result = this.auth.authenticate(credentialOf(s.req.headers, s.queryKey), s.startedAt, s.req);
      if (result instanceof Promise) {
        result.then((r) => this.authenticated(ex, r, s, next)).catch((e: unknown) => this.fail(ex, s.errors, e));
      } else this.authenticated(ex, result, s, next);
    } catch (e) {
      this.fail(ex, s.errors, e);
    }
  }

  /**
   * The end of every per-request chain: something threw. The client gets a 500 in the route's shape (or its
   * connection cut, when the answer had begun) and the request is counted; the pool key was freed by the runner.
   */
  fail(ex: Exchange, errors: ErrorWriter, e: unknown): void {
    this.logger.error(`request ${ex.requestId} failed: ${describe(e)}`);
    ex.abort.abort();
    if (!ex.error) ex.error = 'internal error';
    if (ex.status < 500) ex.status = 500;
    try {
      if (ex.res.headersSent) ex.res.destroy();
      else errors(ex.res, 500, 'INTERNAL', 'The gateway failed to handle the request.');
    } catch {
      ex.res.destroy();
    }
  }

  /**
   * Usage is applied once per id, so the id must be unique per request: a client's own x-request-id (which it may
   * well reuse) gets a random suffix; the gateway's own ids are unique already.
   */
  private usageIdOf(ex: Exchange): string {
    return usageIdFor(ex.req, ex.requestId);
  }

  private authenticated(ex: Exchange, result: AuthResult, s: ExchangeStart, next: ExchangeNext): void {
    const errors = s.errors;
    if (!result.ok) {
      if (result.reason === 'unavailable')
        errors(ex.res, 503, 'UNAVAILABLE', AUTH_MESSAGES.unavailable, { 'retry-after': '1' });
      else if (result.reason === 'throttled') {
        errors(ex.res, 429, 'RESOURCE_EXHAUSTED', AUTH_MESSAGES.throttled, {
          'retry-after': String(result.retryAfter),
        });
      } else errors(ex.res, 401, 'UNAUTHENTICATED', AUTH_MESSAGES[result.reason]);
      this.metrics.countRequest(ex.method, ex.res.statusCode);
      const { req, requestId, startedAt, method, model, stream } = ex;
      this.transactions.refused(req, requestId, startedAt, method, model, stream, ex.res.statusCode, result.reason);
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
    if (s.refusal) {
      ex.error = s.refusal.reason;
      return errors(ex.res, s.refusal.code, s.refusal.status, s.refusal.message);
    }
    if (!this.modelAllowed(ex, ex.model, errors)) return;
    const limit = result.record.rateLimitPerMinute;
    if (!limit) return this.readBody(ex, s, next);
    this.limiter
      .hit(result.record.id, limit)
      .then((verdict) => {
        if (verdict.allowed) return this.readBody(ex, s, next);
        if (verdict.unavailable) {
          ex.error = 'per-key rate limit could not be checked (RATE_LIMIT_FAIL_MODE=closed)';
          const message = 'The rate limit of this API key cannot be checked right now. Retry shortly.';
          return errors(ex.res, 503, 'UNAVAILABLE', message, { 'retry-after': String(verdict.retryAfter) });
        }
        ex.error = 'per-key rate limit exceeded';
        errors(
          ex.res,
          429,
          'RESOURCE_EXHAUSTED',
          `Quota exceeded: this API key allows ${limit} requests per minute. Retry in ${verdict.retryAfter} s.`,
          { 'retry-after': String(verdict.retryAfter) },
        );
      })
      .catch((e: unknown) => this.fail(ex, errors, e));
  }

  /**
   * The key's model allow-list (cached with the key, no lookup), fail closed. Called before the body is read with
   * the model the path names; a route that declared its model `none` passes, one that declared `body` passes
   * until it calls this again with `fromBody` once it has read the body. A request whose model stays unknown is
   * refused when the key has a list. On refusal answers 403 PERMISSION_DENIED and returns false.
   */
  modelAllowed(ex: Exchange, model: string | null, errors: ErrorWriter, fromBody = false): boolean {
    const allowed = ex.record?.allowedModels;
    if (!allowed) return true;
    if (!fromBody) {
      const source = modelSourceOf(ex.req);
      if (source === 'none' || (source === 'body' && model === null)) return true;
    }
    if (modelAllowed(allowed, model)) return true;
    if (model === null) {
      ex.error = 'model unknown, and this key has a model allow-list';
      errors(
        ex.res,
        403,
        'PERMISSION_DENIED',
        'This API key may only use the models on its list, and this request names no model the gateway can check.',
      );
    } else {
      ex.error = 'model not allowed for this key';
      errors(ex.res, 403, 'PERMISSION_DENIED', `This API key may not use the model ${model.slice(0, 100)}.`);
    }
    return false;
  }

  /**
   * Read the body (or hand it on as a stream), within the route's limit and the gateway's budget, then call `next`.
   * A client that sent `Expect: 100-continue` is told to send its body only now, once its key passed.
   */
  private readBody(ex: Exchange, s: ExchangeStart, next: ExchangeNext): void {
    const { errors } = s;
    if (s.streamBody) {
      let body: Readable;
      try {
        body = streamBody(ex.req, s.maxBodyBytes);
      } catch (e) {
        return this.bodyRefused(ex, errors, e);
      }
      // the upstream may answer without reading it all (or no key may be free): the rest is dropped then
      ex.res.once('finish', () => body.destroy());
      this.continue(ex);
      Promise.resolve(body)
        .then((b) => next(ex, b))
        .catch((e: unknown) => this.fail(ex, errors, e));
      return;
    }
    readBody(ex.req, s.maxBodyBytes, this.bodies, () => this.continue(ex), s.bodyMemoryFactor)
      .then(
        (body) =>
          Promise.resolve(body.chunks)
            .then((chunks) => next(ex, chunks))
            .catch((e: unknown) => this.fail(ex, errors, e))
            .finally(body.release),
        (e: unknown) => this.bodyRefused(ex, errors, e),
      )
      .catch((e: unknown) => this.fail(ex, errors, e));
  }

  private continue(ex: Exchange): void {
    const expect = ex.req.headers.expect;
    if (
      typeof expect === 'string' &&
      expect.toLowerCase() === '100-continue' &&
      !ex.res.headersSent &&
      !ex.res.destroyed
    ) {
      ex.res.writeContinue();
    }
  }

  private bodyRefused(ex: Exchange, errors: ErrorWriter, e: unknown): void {
    ex.req.resume();
    if (e instanceof BodyTooLargeError) {
      ex.error = 'request body too large';
      errors(ex.res, 413, 'INVALID_ARGUMENT', e.message);
    } else if (e instanceof BodyBudgetError) {
      ex.error = 'request body budget exhausted';
      errors(ex.res, 503, 'UNAVAILABLE', e.message, { 'retry-after': '1' });
    } else {
      if (!ex.error) ex.error = 'client closed the connection';
      ex.res.destroy();
    }
  }

  /** One usage record per authenticated request, whatever its outcome. */
  private finish(ex: Exchange): void {
    if (!ex.record) return;
    const status = ex.status || ex.res.statusCode || 499;
    const now = Date.now();
    this.metrics.countRequest(ex.method, status, (now - ex.startedAt) / 1000);
    // a 2xx whose body did not end cleanly (a break, the deadline) keeps its error too
    const withError = !!ex.error && (status >= 400 || !!ex.incomplete);
    this.transactions.ended(ex, status, now, withError);
    this.usage.record(
      {
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
        latencyMs: now - ex.startedAt,
        ttfbMs: ex.ttfbMs,
        promptTokens: ex.promptTokens,
        outputTokens: ex.outputTokens,
        ...(withError && ex.error ? { error: scrubSecrets(ex.error).slice(0, 300) } : {}),
      },
      ex.span && traceparentOf(ex.span),
    );
  }
}

/** The usage id of a request (see GatewayPipeline.usageIdOf): unique even when the client reuses its x-request-id. */
export function usageIdFor(req: IncomingMessage, requestId: string): string {
  const sent = req.headers['x-request-id'];
  const clientId = Array.isArray(sent) ? sent[0] : sent;
  return clientId === requestId ? `${requestId}.${randomBytes(6).toString('hex')}` : requestId;
}

function describe(e: unknown): string {
  const err = e as { name?: string; code?: string; message?: string } | null;
  return scrubSecrets(`${err?.name ?? 'Error'}${err?.code ? ` ${err.code}` : ''}: ${String(err?.message ?? e)}`).slice(
    0,
    300,
  );
}
