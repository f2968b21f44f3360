import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@gg/config';
import type { AttemptOutcome, AuthKeyRecord, SnapshotKey } from '@gg/contracts';
import { classifyUpstream, toAttemptOutcome, type UpstreamClassification } from '@gg/key-state';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { AuthCacheService, type AuthResult } from '../auth/auth-cache.service';
import { writeGoogleError } from '../http/google-error';
import { GatewayMetrics } from '../http/gateway-metrics';
import { credentialOf, parseTarget, upstreamHeaders, type Target } from '../http/request-parts';
import { PoolReporterService } from '../pool/pool-reporter.service';
import { PoolSnapshotService } from '../pool/pool-snapshot.service';
import { UsageReporterService } from '../usage/usage-reporter.service';
import { AffinityService } from './affinity.service';
import { BodyTooLargeError, readBody } from './read-body';
import { Relay } from './relay';
import { UpstreamService } from './upstream.service';

const SUCCESS: UpstreamClassification = { kind: 'success', reason: 'ok' };
const MAX_BODY_BYTES = 128 * 1024 * 1024;
const MAX_ERROR_BODY = 256 * 1024;

/** State of one client request on its way through the gateway. */
export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  requestId: string;
  startedAt: number;
  /** performance.now() at arrival */
  startedAtPerf: number;
  target: Target;
  record?: AuthKeyRecord;
  attempts: number;
  poolKeyId: string | null;
  /** ms spent waiting for upstream response heads, summed over attempts */
  upstreamWaitMs: number;
  ttfbMs: number | null;
  status: number;
  error?: string;
  promptTokens: number;
  outputTokens: number;
  abort: AbortController;
  deadlineHit: boolean;
}

const AUTH_MESSAGES: Record<Exclude<AuthResult, { ok: true }>['reason'], string> = {
  missing: 'Method doesn\'t allow unregistered callers. Please use an API key from the gateway (x-goog-api-key header, key parameter or Authorization: Bearer).',
  malformed: 'API key not valid. Please pass a valid API key.',
  unknown: 'API key not valid. Please pass a valid API key.',
  inactive: 'API key is deactivated.',
  expired: 'API key expired. Please renew the API key.',
  unavailable: 'The authentication service is unavailable; try again shortly.',
};

/**
 * The data plane: authenticate from memory, pick a pool key, forward, retry on another key before the first
 * byte, relay the answer as is, report the outcome and the usage. Works on the raw Node request and response.
 */
@Injectable()
export class ForwardService {
  private readonly logger = new Logger(ForwardService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly auth: AuthCacheService,
    private readonly pool: PoolSnapshotService,
    private readonly reporter: PoolReporterService,
    private readonly usage: UsageReporterService,
    private readonly upstream: UpstreamService,
    private readonly affinity: AffinityService,
    private readonly metrics: GatewayMetrics,
  ) {}

  handle(req: IncomingMessage, res: ServerResponse, requestId: string, startedAt: number, startedAtPerf: number): void {
    const target = parseTarget(req.url ?? '/');
    const ex: Exchange = {
      req,
      res,
      requestId,
      startedAt,
      startedAtPerf,
      target,
      attempts: 0,
      poolKeyId: null,
      upstreamWaitMs: 0,
      ttfbMs: null,
      status: 0,
      promptTokens: 0,
      outputTokens: 0,
      abort: new AbortController(),
      deadlineHit: false,
    };
    const result = this.auth.authenticate(credentialOf(req.headers, target.queryKey), startedAt);
    if (result instanceof Promise) result.then((r) => this.authenticated(ex, r));
    else this.authenticated(ex, result);
  }

  private authenticated(ex: Exchange, result: AuthResult): void {
    if (!result.ok) {
      if (result.reason === 'unavailable') writeGoogleError(ex.res, 503, 'UNAVAILABLE', AUTH_MESSAGES.unavailable, { 'retry-after': '1' });
      else writeGoogleError(ex.res, 401, 'UNAUTHENTICATED', AUTH_MESSAGES[result.reason]);
      this.metrics.requests.inc({ status: ex.res.statusCode });
      return;
    }
    ex.record = result.record;
    const deadline = setTimeout(() => {
      ex.deadlineHit = true;
      ex.abort.abort();
    }, this.config.requestTimeoutMs);
    deadline.unref();
    ex.res.once('close', () => {
      clearTimeout(deadline);
      if (!ex.res.writableFinished) {
        ex.abort.abort();
        if (!ex.error) ex.error = 'client closed the connection';
      }
      this.finish(ex);
    });
    readBody(ex.req, MAX_BODY_BYTES).then(
      (body) => this.forward(ex, body.chunks),
      (e) => {
        if (e instanceof BodyTooLargeError) writeGoogleError(ex.res, 413, 'INVALID_ARGUMENT', e.message);
        else ex.res.destroy();
      },
    );
  }

  private async forward(ex: Exchange, body: Buffer[]): Promise<void> {
    const { req, target } = ex;
    const refs = this.affinity.referencesOf(req.url ?? '', body.length > 0 ? body : null);
    const pinned = refs.length > 0 ? await this.affinity.ownerOf(refs) : null;
    const exclude = new Set<string>();
    const length = body.reduce((n, c) => n + c.length, 0);
    const path = target.query ? `${target.path}?${target.query}` : target.path;
    let failure: { status: number; headers: Dispatcher.ResponseData['headers']; body: Buffer } | null = null;

    while (ex.attempts < this.config.maxAttempts && !ex.abort.signal.aborted) {
      const now = Date.now();
      const key = this.choose(pinned, target.model, now, exclude);
      if (!key) break;
      exclude.add(key.id);
      ex.attempts++;
      ex.poolKeyId = key.id;
      this.pool.acquire(key.id);
      const sentAt = performance.now();
      let up: Dispatcher.ResponseData;
      try {
        up = await this.upstream.request({
          method: req.method ?? 'GET',
          path,
          headers: upstreamHeaders(req.headers, key.secret, length, ex.requestId),
          body,
          signal: ex.abort.signal,
        });
      } catch (e) {
        ex.upstreamWaitMs += performance.now() - sentAt;
        this.pool.release(key.id);
        if (ex.deadlineHit) return this.fail(ex, 504, 'DEADLINE_EXCEEDED', 'The upstream did not answer before the deadline.');
        if (ex.abort.signal.aborted) return;
        this.outcome(key.id, target.model, classifyUpstream(0, networkReason(e)), 0);
        ex.error = networkReason(e);
        failure = null;
        continue;
      }
      ex.upstreamWaitMs += performance.now() - sentAt;

      if (up.statusCode < 400) {
        this.outcome(key.id, target.model, SUCCESS, up.statusCode);
        const relay = new Relay(ex, up, this.config, this.affinity, key.id, this.metrics);
        relay.start(() => this.pool.release(key.id), (reason) => {
          this.outcome(key.id, target.model, classifyUpstream(0, reason), 0);
        });
        return;
      }

      const errBody = await readCapped(up.body, MAX_ERROR_BODY).catch(() => Buffer.alloc(0));
      this.pool.release(key.id);
      const c = classifyUpstream(up.statusCode, errBody.toString('utf8'), up.headers, Date.now());
      this.outcome(key.id, target.model, c, up.statusCode);
      ex.error = c.reason;
      if (c.proxyBug) {
        this.logger.error(`upstream saw no key (request ${ex.requestId}): the gateway did not inject the pool key`);
        return this.fail(ex, 502, 'UNAVAILABLE', 'The gateway could not authenticate upstream.');
      }
      failure = { status: up.statusCode, headers: up.headers, body: errBody };
      const retryable = c.kind === 'rate_limited' || c.kind === 'invalid' || c.kind === 'transient';
      if (!retryable || pinned) break;
    }

    if (ex.abort.signal.aborted) {
      if (ex.deadlineHit) this.fail(ex, 504, 'DEADLINE_EXCEEDED', 'The upstream did not answer before the deadline.');
      return;
    }
    if (failure) return this.relayError(ex, failure);
    if (ex.attempts > 0) return this.fail(ex, 502, 'UNAVAILABLE', 'The upstream could not be reached.');
    const now = Date.now();
    const retryAfter = Math.max(1, Math.ceil((this.pool.nextAvailableAt(target.model, now) - now) / 1000));
    const finite = Number.isFinite(retryAfter) ? retryAfter : 60;
    ex.error = 'no pool key available';
    this.fail(ex, 503, 'UNAVAILABLE', 'No Gemini key can serve this request now; retry later.', { 'retry-after': String(finite) });
  }

  /** The pinned key when it is in the pool and usable, else the selector's choice. */
  private choose(pinned: string | null, model: string | null, now: number, exclude: Set<string>): SnapshotKey | null {
    if (pinned) {
      const k = this.pool.keys.find((x) => x.id === pinned);
      if (k && k.status !== 'disabled' && !exclude.has(k.id)) return k;
      if (exclude.has(pinned)) return null;
    }
    return this.pool.pick(model, now, exclude);
  }

  private outcome(keyId: string, model: string | null, c: UpstreamClassification, status: number): void {
    const o: AttemptOutcome = toAttemptOutcome(keyId, model, status, c, Date.now());
    this.pool.applyLocal(o);
    this.reporter.report(o);
    this.metrics.attempts.inc({ outcome: c.kind });
  }

  private relayError(ex: Exchange, f: { status: number; headers: Dispatcher.ResponseData['headers']; body: Buffer }): void {
    const ct = f.headers['content-type'];
    ex.status = f.status;
    ex.res.writeHead(f.status, {
      'content-type': (Array.isArray(ct) ? ct[0] : ct) ?? 'application/json; charset=UTF-8',
      'content-length': f.body.length,
      ...(f.headers['retry-after'] ? { 'retry-after': String(f.headers['retry-after']) } : {}),
    });
    ex.res.end(f.body);
  }

  private fail(ex: Exchange, code: number, status: 'UNAVAILABLE' | 'DEADLINE_EXCEEDED', message: string, headers?: Record<string, string>): void {
    ex.status = code;
    if (!ex.error) ex.error = message;
    writeGoogleError(ex.res, code, status, message, headers);
  }

  /** One usage record per authenticated request, whatever its outcome. */
  private finish(ex: Exchange): void {
    if (!ex.record) return;
    const status = ex.status || ex.res.statusCode || 499;
    const latencyMs = Date.now() - ex.startedAt;
    this.metrics.requests.inc({ status });
    this.usage.record({
      requestId: ex.requestId,
      at: new Date(ex.startedAt).toISOString(),
      userId: ex.record.userId,
      authKeyId: ex.record.id,
      poolKeyId: ex.poolKeyId,
      method: ex.target.method ?? `${ex.req.method} ${ex.target.path.split('/').slice(0, 3).join('/')}`,
      model: ex.target.model,
      stream: ex.target.method === 'streamGenerateContent',
      status,
      attempts: ex.attempts,
      latencyMs,
      ttfbMs: ex.ttfbMs,
      promptTokens: ex.promptTokens,
      outputTokens: ex.outputTokens,
      ...(ex.error && status >= 400 ? { error: ex.error.slice(0, 300) } : {}),
    });
  }
}

function networkReason(e: unknown): string {
  const code = (e as { code?: string }).code;
  return code ? `network error ${code}` : 'network error';
}

async function readCapped(body: Dispatcher.ResponseData['body'], max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of body) {
    const b = c as Buffer;
    if (n + b.length > max) {
      chunks.push(b.subarray(0, max - n));
      body.destroy();
      break;
    }
    chunks.push(b);
    n += b.length;
  }
  return Buffer.concat(chunks);
}
