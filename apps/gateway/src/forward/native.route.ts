import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@gg/config';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { GatewayMetrics } from '../http/gateway-metrics';
import { writeGoogleError } from '../http/google-error';
import { parseTarget, upstreamHeaders, type Target } from '../http/request-parts';
import { modelsInBody } from '../http/target-body';
import { declareModelSource } from '../limits/model-allowed';
import { OwnershipService } from '../resources/ownership.service';
import { ResourceGate } from '../resources/resource-gate.service';
import { CatalogueListResponder } from '../settings/catalogue-responder';
import { withModel } from '../settings/model-catalogue';
import { RuntimeSettings } from '../settings/runtime-settings.service';
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
    private readonly ownership: OwnershipService,
    private readonly gate: ResourceGate,
    private readonly metrics: GatewayMetrics,
    private readonly settings: RuntimeSettings,
  ) {}

  handle(req: IncomingMessage, res: ServerResponse, requestId: string, startedAt: number, startedAtPerf: number): void {
    const url = req.url ?? '/';
    const target = parseTarget(url, req.method);
    const responder = this.catalogue(target, req.method);
    declareModelSource(req, target.modelSource);
    const method = target.method ?? `${req.method} ${target.path.split('/').slice(0, 3).join('/')}`;
    const upload = isStreamedUpload(target.path, req);
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
        maxBodyBytes: upload ? this.config.maxUploadBodyBytes : this.config.maxRequestBodyBytes,
        streamBody: upload,
        refusal: target.refusal,
      },
      (ex, body) =>
        this.bodyModelsAllowed(ex, body, target)
          ? this.forward(ex, body, url, target.query ? `${target.path}?${target.query}` : target.path, responder)
          : Promise.resolve(),
    );
  }

  /**
   * The model catalogue (runtime settings) on a request: an alias in the path becomes its real model (for the
   * allow-list, the log, affinity and the upstream), a hidden model is refused as Google refuses an unknown one, and
   * a model list is shown through the catalogue. Returns the responder of the answer.
   */
  private catalogue(target: Target, verb: string | undefined): Responder {
    const cat = this.settings.catalogue;
    if (!cat.active || target.resource !== 'models') return this;
    if (target.model === null) {
      return verb === 'GET' && !target.upload
        ? new CatalogueListResponder(this, cat, this.config.maxAnswerBodyBytes)
        : this;
    }
    const real = cat.resolve(target.model);
    if (real !== target.model) {
      target.model = real;
      target.path = withModel(target.path, real, target.method);
    } else if (cat.refuses(target.model) && !target.refusal) {
      target.refusal = {
        code: 404,
        status: 'NOT_FOUND',
        message: `models/${target.model.slice(0, 128)} is not found for API version ${target.version}, or is not supported for ${target.method ?? 'get'}. Call ListModels to see the list of available models and their supported methods.`,
        reason: 'hidden model',
      };
    }
    return this;
  }

  /**
   * Routes whose body names models (creates, batches, countTokens, batchEmbedContents, Google's OpenAI layer):
   * every model named must be on the key's list, and a required one that cannot be read is refused when the key
   * has a list. The request log gets the model asked for (the refused one on a refusal).
   */
  private bodyModelsAllowed(ex: Exchange, body: Buffer[] | Readable, target: Target): boolean {
    const spec = target.bodyModels;
    if (!spec) return true;
    const listed = !!ex.record?.allowedModels;
    // without a list the body is read only to log the model, when the path names none
    if (!listed && ex.model !== null) return true;
    const found = Array.isArray(body) ? modelsInBody(ex.req.headers, body, spec) : null;
    const models: (string | null)[] = found === null || (found.length === 0 && spec.required) ? [null] : found;
    for (const m of models) {
      const id = m === null ? null : m.replace(/^models\//, '');
      if (ex.model === null && id !== null) ex.model = id;
      if (!this.pipeline.modelAllowed(ex, id, this.errors, true)) {
        if (id !== null) ex.model = id;
        return false;
      }
    }
    return true;
  }

  private async forward(
    ex: Exchange,
    body: Buffer[] | Readable,
    url: string,
    path: string,
    responder: Responder,
  ): Promise<void> {
    // ownership (README "Resources: affinity and ownership"): refused, or answered (lists), before any upstream call
    // a streamed upload's references are in its path only (its bytes are never looked at)
    const gate = await this.gate.check(
      ex,
      url,
      Array.isArray(body) ? body : [],
      path.includes('?') ? path.slice(path.indexOf('?') + 1) : '',
    );
    if (!gate) return;
    const pinned = gate.pinned;
    const headers = upstreamHeaders(ex.req.headers, ex.requestId);
    if (!Array.isArray(body)) {
      // a streamed upload goes with its own length (or chunked), as the client sent it
      const length = ex.req.headers['content-length'];
      if (length !== undefined && ex.req.headers['transfer-encoding'] === undefined) headers['content-length'] = length;
    }
    await this.runner.run(ex, { method: ex.req.method ?? 'GET', path, headers, body, pinned }, responder);
  }

  success(
    ex: Exchange,
    up: Dispatcher.ResponseData,
    keyId: string,
    release: () => void,
    broken: (reason: string) => void,
  ): void {
    new Relay(ex, up, this.config, this.ownership, keyId, this.metrics).start(release, broken);
  }

  /** The upstream's error, as it sent it (a streamed upload's client may still be sending: dropped then). */
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

/**
 * Upload bytes are streamed upstream, never held: `/upload/…` requests but the resumable `start` (its small JSON
 * body is buffered, so it may be retried on another key).
 */
function isStreamedUpload(path: string, req: IncomingMessage): boolean {
  if (!path.startsWith('/upload/') || (req.method !== 'POST' && req.method !== 'PUT')) return false;
  const command = req.headers['x-goog-upload-command'];
  return !(typeof command === 'string' && command.trim().toLowerCase() === 'start');
}
