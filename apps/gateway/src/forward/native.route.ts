import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@gg/config';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { GatewayMetrics } from '../http/gateway-metrics';
import { writeGoogleError } from '../http/google-error';
import { parseTarget, upstreamHeaders } from '../http/request-parts';
import { AffinityService } from './affinity.service';
import { AttemptRunner } from './attempt-runner.service';
import type { Exchange, Responder, UpstreamFailure } from './exchange';
import { GatewayPipeline } from './pipeline.service';
import { Relay } from './relay';

/**
 * The native Gemini routes (`/v1beta/…`, `/v1/…`, `/upload/…`): the request goes upstream unchanged but for the
 * key, and the answer comes back as is — status, content-type and bytes, chunk by chunk.
 */
@Injectable()
export class NativeRoute implements Responder {
  readonly errors = writeGoogleError;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly pipeline: GatewayPipeline,
    private readonly runner: AttemptRunner,
    private readonly affinity: AffinityService,
    private readonly metrics: GatewayMetrics,
  ) {}

  handle(req: IncomingMessage, res: ServerResponse, requestId: string, startedAt: number, startedAtPerf: number): void {
    const url = req.url ?? '/';
    const target = parseTarget(url);
    const method = target.method ?? `${req.method} ${target.path.split('/').slice(0, 3).join('/')}`;
    this.pipeline.start(
      {
        req,
        res,
        requestId,
        startedAt,
        startedAtPerf,
        method,
        model: target.model,
        stream: target.method === 'streamGenerateContent',
        queryKey: target.queryKey,
        errors: this.errors,
      },
      (ex, body) => void this.forward(ex, body, url, target.query ? `${target.path}?${target.query}` : target.path),
    );
  }

  private async forward(ex: Exchange, body: Buffer[], url: string, path: string): Promise<void> {
    const refs = this.affinity.referencesOf(url, body.length > 0 ? body : null);
    const pinned = refs.length > 0 ? await this.affinity.ownerOf(refs) : null;
    await this.runner.run(
      ex,
      { method: ex.req.method ?? 'GET', path, headers: upstreamHeaders(ex.req.headers, ex.requestId), body, pinned },
      this,
    );
  }

  success(ex: Exchange, up: Dispatcher.ResponseData, keyId: string, release: () => void, broken: (reason: string) => void): void {
    new Relay(ex, up, this.config, this.affinity, keyId, this.metrics).start(release, broken);
  }

  /** The upstream's error, as it sent it. */
  upstreamError(ex: Exchange, f: UpstreamFailure): void {
    const ct = f.headers['content-type'];
    ex.res.writeHead(f.status, {
      'content-type': (Array.isArray(ct) ? ct[0] : ct) ?? 'application/json; charset=UTF-8',
      'content-length': f.body.length,
      ...(f.headers['retry-after'] ? { 'retry-after': String(f.headers['retry-after']) } : {}),
    });
    ex.res.end(f.body);
  }
}
