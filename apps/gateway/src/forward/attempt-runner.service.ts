import { Injectable, Logger } from '@nestjs/common';
import type { AttemptOutcome, SnapshotKey } from '@gg/contracts';
import { DebugLog, errorType, isUpstreamProxyFailure, traceparentOf } from '@gg/nest-common';
import type { Span } from '@opentelemetry/api';
import { blameOfFailures, classifyUpstream, toAttemptOutcome, type UpstreamClassification } from '@gg/key-state';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { GatewayMetrics } from '../http/gateway-metrics';
import { PoolReporterService } from '../pool/pool-reporter.service';
import { PoolSnapshotService } from '../pool/pool-snapshot.service';
import { RuntimeSettings } from '../settings/runtime-settings.service';
import { attemptLine, blameLine, poolChoiceLine } from './attempt-debug';
import type { Exchange, Responder, UpstreamCall, UpstreamFailure } from './exchange';
import { ProxyRouter } from './proxy-router.service';
import { clientBodyFailure } from './read-body';
import { endAttempt, startAttempt } from './tracing';
import { DEADLINE_BACKSTOP_MS, UpstreamService } from './upstream.service';

const SUCCESS: UpstreamClassification = { kind: 'success', reason: 'ok' };
const TIMEOUT: UpstreamClassification = {
  kind: 'transient',
  reason: 'timeout: no answer before REQUEST_TIMEOUT_SECONDS',
};
const FIRST_BYTE: UpstreamClassification = {
  kind: 'transient',
  reason: 'timeout: no response headers within UPSTREAM_FIRST_BYTE_TIMEOUT_SECONDS',
};
/** the client went away before the answer ended: nothing is known about the key (counts the request only) */
const CLIENT_LEFT: UpstreamClassification = { kind: 'client_error', reason: 'client left before the answer ended' };
const MAX_ERROR_BODY = 256 * 1024;

/**
 * Tries one upstream call on up to MAX_ATTEMPTS pool keys: a key failing for a key reason (429, invalid, 5xx,
 * network) is reported and the next key tried, as long as nothing has reached the client. Every attempt's
 * outcome goes to the local pool copy and to key-pool by event: 429s and invalid keys at once; transient failures
 * once the request's attempts are over, with their blame (another key served it: the keys'; every key tried failed
 * that way: the request's); a successful answer when it ends (clean end: success; a break or the deadline after
 * the headers: one failure of its key).
 */
@Injectable()
export class AttemptRunner {
  private readonly logger = new Logger(AttemptRunner.name);
  private readonly debug = new DebugLog(AttemptRunner.name);

  constructor(
    private readonly pool: PoolSnapshotService,
    private readonly reporter: PoolReporterService,
    private readonly upstream: UpstreamService,
    private readonly metrics: GatewayMetrics,
    private readonly proxies: ProxyRouter,
    private readonly settings: RuntimeSettings,
  ) {}

  async run(ex: Exchange, call: UpstreamCall, responder: Responder): Promise<void> {
    /** this request's transient failures, reported once its attempts are over (flushHeld) */
    const held: AttemptOutcome[] = [];
    try {
      await this.tryKeys(ex, call, responder, held);
    } finally {
      this.flushHeld(ex, held, false);
    }
  }

  private async tryKeys(ex: Exchange, call: UpstreamCall, responder: Responder, held: AttemptOutcome[]): Promise<void> {
    const exclude = new Set<string>();
    // a streamed body (an upload) can be sent once only: no retry on another key; it carries its own length
    const streamed = !Array.isArray(call.body);
    const length = Array.isArray(call.body) ? call.body.reduce((n, c) => n + c.length, 0) : 0;
    let failure: UpstreamFailure | null = null;
    if (!streamed && (length > 0 || call.method !== 'GET')) call.headers['content-length'] = String(length);

    while (
      ex.attempts < this.settings.values.maxAttempts &&
      !ex.abort.signal.aborted &&
      !(streamed && ex.attempts > 0)
    ) {
      const key = this.choose(call.pinned, ex.model, Date.now(), exclude);
      if (this.debug.on) {
        const why = this.pool.explain(ex.model, Date.now(), exclude);
        this.debug.line('pool choice', poolChoiceLine(ex, call.pinned, key, why));
      }
      if (!key) break;
      exclude.add(key.id);
      ex.attempts++;
      ex.poolKeyId = key.id;
      this.pool.acquire(key.id);
      const span = ex.span && startAttempt(ex, ex.span, key.id, this.upstream.origin);
      // the call's headers are this request's own object: set the key of this attempt in place
      call.headers['x-goog-api-key'] = key.secret;
      const sentAt = performance.now();
      const left = this.settings.requestTimeoutMs - (Date.now() - ex.startedAt);
      const firstByte = this.settings.firstByteTimeoutMs;
      const firstByteApplies = firstByte !== null && firstByte < left;
      let up: Dispatcher.ResponseData;
      try {
        // through the key's proxy of the list; one that fails rests, and the same key goes through the next
        up = await this.proxies.send(key, !streamed, ex.abort.signal, (dispatcher) =>
          this.upstream.request({
            method: call.method,
            path: call.path,
            headers: call.headers,
            body: call.body,
            signal: ex.abort.signal,
            headersTimeout: firstByteApplies ? firstByte : Math.max(left, 0) + DEADLINE_BACKSTOP_MS,
            dispatcher,
          }),
        );
      } catch (e) {
        ex.upstreamWaitMs += performance.now() - sentAt;
        this.pool.release(key.id);
        if (span) endAttempt(span, ex, 0, errorType(e));
        const headersTimedOut = (e as { code?: string }).code === 'UND_ERR_HEADERS_TIMEOUT';
        if (headersTimedOut && !firstByteApplies && !ex.deadlineHit) {
          // the backstop fired before the sweep: the deadline all the same
          ex.deadlineHit = true;
          ex.abort.abort();
        }
        if (ex.deadlineHit) {
          // the key did not answer in time: a failure of the key, though no time is left to try another
          held.push(this.outcome(ex, key.id, TIMEOUT, 0));
          return this.deadline(ex, responder);
        }
        if (ex.abort.signal.aborted) return;
        // the client's own streamed body failed (too large, cut off): not the key's fault
        const bodyFailure = streamed ? clientBodyFailure(call.body as Readable) : null;
        if (bodyFailure) {
          ex.error = bodyFailure.message;
          ex.status = bodyFailure.status;
          return responder.errors(ex.res, bodyFailure.status, bodyFailure.googleStatus, bodyFailure.message);
        }
        if (isUpstreamProxyFailure(e)) {
          // the way to Google failed, not the key: no outcome for it, and no other key would fare better (with a proxy
          // list, every proxy left was tried already)
          this.metrics.upstreamProxyFailures.inc();
          ex.error = e.message;
          ex.status = 502;
          return responder.errors(ex.res, 502, 'UNAVAILABLE', `The upstream proxy ${e.proxy} could not be reached.`);
        }
        if (headersTimedOut) {
          // this key kept the request waiting: a failure of the key, and another key is tried
          held.push(this.outcome(ex, key.id, FIRST_BYTE, 0));
          ex.error = FIRST_BYTE.reason;
          this.metrics.firstByteTimeouts.inc();
          failure = null;
          continue;
        }
        const reason = networkReason(e);
        held.push(this.outcome(ex, key.id, classifyUpstream(0, reason), 0));
        ex.error = reason;
        failure = null;
        continue;
      }
      ex.upstreamWaitMs += performance.now() - sentAt;

      if (up.statusCode < 400) {
        // another key served what the held failures could not: they were those keys' own
        this.flushHeld(ex, held, true);
        // the errors of earlier attempts are not this request's; a break sets its own
        ex.error = undefined;
        // the answer's outcome is reported once, when it ends (settle): a break is reported before the release
        let broke: string | null = null;
        const status = up.statusCode;
        const release = once(() => {
          this.pool.release(key.id);
          this.settle(ex, key.id, status, broke);
          if (span) endAttempt(span, ex, status, broke === null ? null : 'broken', undefined, true);
        });
        const broken = (reason: string): void => {
          broke ??= reason;
        };
        try {
          responder.success(ex, up, key.id, release, broken);
        } catch (e) {
          // the responder threw (say writeHead): free the key and the upstream connection, let the caller answer
          release();
          if (!up.body.destroyed) up.body.destroy();
          throw e;
        }
        return;
      }

      // Google echoes the key in some errors ("Consumer 'api_key:…' has been suspended"): never pass it on
      const raw = await readCapped(up.body, MAX_ERROR_BODY).catch(() => Buffer.alloc(0));
      this.pool.release(key.id);
      const body = scrubSecret(raw, key.secret);
      const c = classifyUpstream(up.statusCode, body.toString('utf8'), up.headers, Date.now());
      if (span) endAttempt(span, ex, up.statusCode, String(up.statusCode), c.kind);
      if (c.kind === 'transient') held.push(this.outcome(ex, key.id, c, up.statusCode));
      else this.report(this.outcome(ex, key.id, c, up.statusCode), ex.span);
      ex.error = c.reason;
      if (c.proxyBug) {
        this.logger.error(`upstream saw no key (request ${ex.requestId}): the gateway did not inject the pool key`);
        ex.status = 502;
        return responder.errors(ex.res, 502, 'UNAVAILABLE', 'The gateway could not authenticate upstream.');
      }
      failure = { status: up.statusCode, headers: up.headers, body };
      const retryable = c.kind === 'rate_limited' || c.kind === 'invalid' || c.kind === 'transient';
      if (!retryable || call.pinned) break;
    }

    if (ex.abort.signal.aborted) {
      if (ex.deadlineHit) this.deadline(ex, responder);
      return;
    }
    if (failure) {
      ex.status = failure.status;
      return responder.upstreamError(ex, failure);
    }
    if (ex.attempts > 0 && ex.error === FIRST_BYTE.reason) {
      ex.status = 504;
      const message = 'No Gemini key answered within UPSTREAM_FIRST_BYTE_TIMEOUT_SECONDS.';
      return responder.errors(ex.res, 504, 'DEADLINE_EXCEEDED', message);
    }
    if (ex.attempts > 0) {
      ex.status = 502;
      return responder.errors(ex.res, 502, 'UNAVAILABLE', 'The upstream could not be reached.');
    }
    const now = Date.now();
    const wait = Math.ceil((this.pool.nextAvailableAt(ex.model, now) - now) / 1000);
    const retryAfter = Number.isFinite(wait) ? Math.max(1, wait) : 60;
    ex.error =
      this.pool.modelPausedUntil(ex.model, now) > 0 ? 'model overloaded upstream: it rests' : 'no pool key available';
    ex.status = 503;
    responder.errors(ex.res, 503, 'UNAVAILABLE', 'No Gemini key can serve this request now; retry later.', {
      'retry-after': String(retryAfter),
    });
  }

  /** None while the pool pauses; the pinned key when it is in the pool and not disabled; else the selector's choice. */
  private choose(pinned: string | null, model: string | null, now: number, exclude: Set<string>): SnapshotKey | null {
    if (this.pool.pausedUntil(now) > 0) return null;
    if (pinned) {
      if (exclude.has(pinned)) return null;
      const k = this.pool.keys.find((x) => x.id === pinned);
      if (k && k.status !== 'disabled') return k;
    }
    return this.pool.pick(model, now, exclude);
  }

  private deadline(ex: Exchange, responder: Responder): void {
    ex.status = 504;
    ex.error = 'deadline exceeded';
    responder.errors(ex.res, 504, 'DEADLINE_EXCEEDED', 'The upstream did not answer before the deadline.');
  }

  /** One attempt's outcome, with the user whose request it was (failures nobody confirms weigh once per user). */
  private outcome(ex: Exchange, keyId: string, c: UpstreamClassification, status: number): AttemptOutcome {
    const o = toAttemptOutcome(keyId, ex.model, status, c, Date.now());
    if (ex.record) o.user = ex.record.userId;
    // a failure names its request on key-pool's lines (successes are counted together, they name none)
    if (o.kind !== 'success') o.requestId = ex.requestId;
    // every outcome of the request passes here once: the transaction log's trace of its attempts
    (ex.tried ??= []).push({ keyId, outcome: c.kind, status });
    if (this.debug.on) this.debug.line('attempt classified', attemptLine(ex, keyId, c, status));
    return o;
  }

  /** One attempt's outcome to the local pool copy, to key-pool and to the metrics (the Live relay's too). */
  report(o: AttemptOutcome, span?: Span): void {
    this.pool.applyLocal(o);
    this.reporter.report(o, span && traceparentOf(span));
    this.metrics.attempts.inc({ outcome: o.kind });
  }

  /** Reports the held transient failures (once), blamed on the keys when another key served the request. */
  private flushHeld(ex: Exchange, held: AttemptOutcome[], served: boolean): void {
    if (held.length === 0) return;
    const blame = blameOfFailures(held.length, served);
    if (this.debug.on) this.debug.line('attempts blamed', blameLine(ex, held.length, served, blame));
    for (const o of held.splice(0)) {
      if (blame) o.blame = blame;
      this.report(o, ex.span);
    }
  }

  /**
   * The outcome of a successful answer, once it has ended: a clean end is a success; a break or the deadline after
   * the headers is one failure of the key; a client that left tells nothing about the key.
   */
  private settle(ex: Exchange, keyId: string, status: number, broke: string | null): void {
    const c =
      broke !== null ? { kind: 'transient' as const, reason: broke } : ex.abort.signal.aborted ? CLIENT_LEFT : SUCCESS;
    this.report(this.outcome(ex, keyId, c, status), ex.span);
  }
}

/** The body with every occurrence of the pool key replaced by its mask (same length semantics not needed). */
export function scrubSecret(body: Buffer, secret: string): Buffer {
  if (secret.length < 8 || body.indexOf(secret) === -1) return body;
  const masked = `${secret.slice(0, 4)}…${secret.slice(-4)}`;
  return Buffer.from(body.toString('utf8').split(secret).join(masked), 'utf8');
}

function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
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
