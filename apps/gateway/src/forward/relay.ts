import type { AppConfig } from '@gg/config';
import type { Dispatcher } from 'undici';
import { downstreamHeaders } from '../http/request-parts';
import type { GatewayMetrics } from '../http/gateway-metrics';
import type { AffinityService } from './affinity.service';
import type { Exchange } from './exchange';
import { UsageTail } from './usage-tail';

const CAPTURE_MAX = 64 * 1024;

/**
 * Relays a successful upstream answer as is: status, headers (hop-by-hop dropped, the upload URL pointed at the
 * gateway with no key in it), and each body chunk written on as it arrives, with backpressure both ways.
 */
export class Relay {
  private readonly tail = new UsageTail();
  private captured: Buffer[] | null = null;
  private capturedBytes = 0;

  constructor(
    private readonly ex: Exchange,
    private readonly up: Dispatcher.ResponseData,
    private readonly config: AppConfig,
    private readonly affinity: AffinityService,
    private readonly keyId: string,
    private readonly metrics: GatewayMetrics,
  ) {}

  start(release: () => void, onBrokenUpstream: (reason: string) => void): void {
    const { ex, up } = this;
    const { res } = ex;
    const headers = downstreamHeaders(up.headers);
    const uploadUrl = up.headers['x-goog-upload-url'];
    if (typeof uploadUrl === 'string') headers['x-goog-upload-url'] = this.rewriteUploadUrl(uploadUrl);
    if (this.wantsCapture()) this.captured = [];
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
      if (received === length) {
        ended = true;
        res.end(chunk);
      } else if (!res.write(chunk)) body.pause();
    });
    res.on('drain', () => body.resume());
    body.once('end', () => {
      const t = this.tail.tokens();
      ex.promptTokens = t.promptTokens;
      ex.outputTokens = t.outputTokens;
      this.bindCreated();
      done();
      if (!ended) res.end();
    });
    body.once('error', (e: Error & { code?: string }) => {
      done();
      if (!ex.abort.signal.aborted) {
        const reason = `upstream stream broke: ${e.code ?? e.name}`;
        ex.error = reason;
        onBrokenUpstream(reason);
      }
      // Never retry or inject after the first byte: cut the connection so the client sees the failure.
      res.destroy();
    });
    res.once('close', () => {
      if (!body.destroyed) body.destroy();
      done();
    });
  }

  /** Upload starts, finalizes and cachedContents creation tell us which key owns what. */
  private wantsCapture(): boolean {
    const p = (this.ex.req.url ?? '').split('?')[0];
    return p.startsWith('/upload/') || (this.ex.req.method === 'POST' && /\/cachedContents$/.test(p));
  }

  private bindCreated(): void {
    if (!this.captured) return;
    const text = Buffer.concat(this.captured).toString('utf8');
    for (const m of text.matchAll(/"name"\s*:\s*"((?:files|cachedContents)\/[^"]+)"/g)) {
      this.affinity.bind(m[1], this.keyId);
    }
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
    if (uploadId) this.affinity.bind(`upload:${encodeURIComponent(uploadId)}`, this.keyId);
    const h = this.ex.req.headers;
    const proto = firstHeader(h['x-forwarded-proto']) ?? 'http';
    const host = firstHeader(h['x-forwarded-host']) ?? h.host ?? `127.0.0.1:${this.config.gatewayPort}`;
    const basePath = new URL(this.config.geminiBaseUrl).pathname.replace(/\/+$/, '');
    const path = basePath && u.pathname.startsWith(basePath) ? u.pathname.slice(basePath.length) : u.pathname;
    return `${proto}://${host}${path}${u.search}`;
  }
}

function firstHeader(v: string | string[] | undefined): string | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  return s ? s.split(',')[0].trim() : undefined;
}
