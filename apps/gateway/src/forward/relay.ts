import type { AppConfig } from '@gg/config';
import type { Dispatcher } from 'undici';
import { compileTrust } from '@gg/nest-common';
import { downstreamHeaders } from '../http/request-parts';
import { publicOrigin } from '../http/target-origin';
import type { GatewayMetrics } from '../http/gateway-metrics';
import type { OwnershipService } from '../resources/ownership.service';
import type { Exchange } from './exchange';
import { UsageTail } from './usage-tail';

const CAPTURE_MAX = 64 * 1024;
/** Google's error object as the last event of a stream (SSE or JSON array) */
const STREAM_ERROR = /"error"\s*:\s*\{/g;

/**
 * Relays a successful upstream answer as is: status, headers (hop-by-hop dropped, the upload URL pointed at the
 * gateway with no key in it), and each body chunk written on as it arrives, with backpressure both ways.
 */
export class Relay {
  private readonly tail = new UsageTail();
  private captured: Buffer[] | null = null;
  private capturedBytes = 0;
  /** an answer that creates or deletes a resource is held (up to CAPTURE_MAX) until its record is written */
  private holding = false;
  private uploadBind: Promise<void> | null = null;

  constructor(
    private readonly ex: Exchange,
    private readonly up: Dispatcher.ResponseData,
    private readonly config: AppConfig,
    private readonly ownership: OwnershipService,
    private readonly keyId: string,
    private readonly metrics: GatewayMetrics,
  ) {}

  start(release: () => void, onBrokenUpstream: (reason: string) => void): void {
    const headers = downstreamHeaders(this.up.headers);
    const uploadUrl = this.up.headers['x-goog-upload-url'];
    if (typeof uploadUrl === 'string') headers['x-goog-upload-url'] = this.rewriteUploadUrl(uploadUrl);
    // the session's owner is on record on every replica before the client learns its URL
    const bind = this.uploadBind;
    if (!bind) return this.begin(headers, release, onBrokenUpstream);
    bind
      .then(() => {
        if (!this.ex.res.destroyed) return this.begin(headers, release, onBrokenUpstream);
        this.up.body.destroy();
        release();
      })
      .catch(() => this.cut(release));
  }

  private begin(
    headers: Record<string, string | string[]>,
    release: () => void,
    onBrokenUpstream: (reason: string) => void,
  ): void {
    const { ex, up } = this;
    const { res } = ex;
    const plan = ex.resources;
    if (plan && (plan.captures || plan.deletes || plan.updates) && up.statusCode < 300 && !ex.stream) {
      this.captured = [];
      this.holding = true;
    }
    const overheadMs = performance.now() - ex.startedAtPerf - ex.upstreamWaitMs;
    headers['server-timing'] = `gateway;dur=${overheadMs.toFixed(2)}`;
    this.metrics.overhead.observe(overheadMs / 1000);
    ex.status = up.statusCode;
    res.writeHead(up.statusCode, headers);
    if (ex.stream) res.flushHeaders();

    let released = false;
    const done = (): void => {
      if (released) return;
      released = true;
      release();
    };
    const body = up.body;
    // A body whose announced length has fully arrived is sent with the end of the response: one write, not two.
    const length = Number(up.headers['content-length'] ?? -1);
    let received = 0;
    let ended = false;
    body.on('data', (chunk: Buffer) => {
      if (ex.ttfbMs === null) ex.ttfbMs = Date.now() - ex.startedAt;
      this.tail.push(chunk);
      if (this.captured && this.capturedBytes < CAPTURE_MAX) {
        this.captured.push(chunk);
        this.capturedBytes += chunk.length;
      }
      received += chunk.length;
      if (this.holding) {
        if (this.capturedBytes < CAPTURE_MAX) return;
        // too large to hold: what came so far goes now, the rest as it comes (its record is written at the end)
        this.holding = false;
        chunk = Buffer.concat(this.captured as Buffer[]);
      }
      if (received === length) {
        ended = true;
        res.end(chunk);
      } else if (!res.write(chunk)) body.pause();
    });
    res.on('drain', () => body.resume());
    body.once('end', () => {
      this.countTokens();
      if (ex.stream) this.checkStreamError(onBrokenUpstream);
      const finish = (): void => {
        done();
        if (this.holding) {
          this.holding = false;
          ended = true;
          res.end(Buffer.concat(this.captured as Buffer[]));
        } else if (!ended) res.end();
      };
      const settled = this.settle();
      if (settled && this.holding) settled.then(finish).catch(() => this.cut(done));
      else finish();
    });
    body.once('error', (e: Error & { code?: string }) => {
      // the tokens of the chunks relayed so far are counted, and a break or the deadline is one failure of the key,
      // reported (onBrokenUpstream) before the release that settles the attempt; a client that left is neither
      this.countTokens();
      const reason = ex.deadlineHit
        ? 'deadline exceeded after the headers: the answer was cut'
        : ex.abort.signal.aborted
          ? null
          : `upstream stream broke: ${e.code ?? e.name}`;
      if (reason) {
        ex.error = reason;
        ex.incomplete = true;
        onBrokenUpstream(reason);
      }
      done();
      // Never retry or inject after the first byte: cut the connection so the client sees the failure.
      res.destroy();
    });
    res.once('close', () => {
      if (!body.destroyed) body.destroy();
      done();
    });
  }

  /** Something threw after the answer began: the client's connection is cut and the key freed (release is once). */
  private cut(release: () => void): void {
    if (!this.ex.error) this.ex.error = 'internal error: the answer could not be relayed';
    if (this.ex.res.headersSent) this.ex.incomplete = true;
    else this.ex.status = 500;
    if (!this.up.body.destroyed) this.up.body.destroy();
    this.ex.res.destroy();
    release();
  }

  /**
   * A stream that ended with Google's error object (`{"error": …}` after the last candidate) did not end cleanly:
   * one failure of the key, and the request log keeps the error. Escaped quotes in model text never match.
   */
  private checkStreamError(onBrokenUpstream: (reason: string) => void): void {
    const text = this.tail.text();
    let at = -1;
    for (const m of text.matchAll(STREAM_ERROR)) at = m.index;
    if (at === -1 || at < text.lastIndexOf('"candidates"')) return;
    const message = /"message"\s*:\s*"((?:[^"\\]|\\.){0,200})/.exec(text.slice(at))?.[1] ?? '';
    const reason = `upstream error mid-stream: ${message}`;
    this.ex.error = reason;
    this.ex.incomplete = true;
    onBrokenUpstream(reason);
  }

  private countTokens(): void {
    const t = this.tail.tokens();
    this.ex.promptTokens = t.promptTokens;
    this.ex.outputTokens = t.outputTokens;
  }

  /** Records what the answer created for the caller, forgets what it deleted (never throws). */
  private settle(): Promise<void> | null {
    const plan = this.ex.resources;
    if (!plan || !this.captured) return null;
    const text = plan.captures || plan.updates ? Buffer.concat(this.captured).toString('utf8') : null;
    return this.ownership.settle(this.ex, plan, this.keyId, text);
  }

  /** Point the resumable upload URL at this gateway, strip any key, pin the session to the key. */
  private rewriteUploadUrl(raw: string): string {
    let u: URL;
    try {
      u = new URL(raw);
    } catch {
      return raw;
    }
    u.searchParams.delete('key');
    const uploadId = u.searchParams.get('upload_id');
    if (uploadId)
      this.uploadBind = this.ownership.bindUploadSession(this.ex, uploadId, this.keyId).catch(() => undefined);
    const trust = compileTrust(this.config.trustedProxies);
    const origin = publicOrigin(this.ex.req, this.config.publicBaseUrl, trust, `127.0.0.1:${this.config.gatewayPort}`);
    const basePath = new URL(this.config.geminiBaseUrl).pathname.replace(/\/+$/, '');
    const path = basePath && u.pathname.startsWith(basePath) ? u.pathname.slice(basePath.length) : u.pathname;
    return `${origin}${path}${u.search}`;
  }
}
