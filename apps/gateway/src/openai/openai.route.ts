import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, OPENAI_BODY_MEMORY_FACTOR, type AppConfig } from '@gg/config';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AttemptRunner } from '../forward/attempt-runner.service';
import type { Exchange, Responder, UpstreamCall } from '../forward/exchange';
import { GatewayPipeline } from '../forward/pipeline.service';
import { declareModelSource } from '../limits/model-allowed';
import { OwnershipService } from '../resources/ownership.service';
import { RuntimeSettings } from '../settings/runtime-settings.service';
import type { Json } from './chat-messages';
import { mapChatRequest } from './chat-request';
import { countedTokens, toChatCompletion } from './chat-response';
import { ImageFetcher } from './image-fetcher';
import { mapEmbeddingsRequest, toEmbeddings, toModelList, toOpenAiModel } from './models-embeddings';
import { ENDPOINT_METHOD, type OpenAiEndpoint } from './openai-endpoint';
import {
  InvalidRequestError,
  openAiErrorBody,
  sendOpenAiError,
  writeInvalidRequest,
  writeOpenAiError,
} from './openai-errors';
import { ChatStreamResponder, JsonResponder } from './responders';

const MODEL_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * The OpenAI-compatible API (`/v1/chat/completions`, `/v1/embeddings`, `/v1/models`) on the native data plane:
 * the same authentication, deadline, counting and request log (GatewayPipeline), the same pool, retries and key
 * health (AttemptRunner); only the request is mapped to Gemini and the answer back to OpenAI's shapes.
 */
@Injectable()
export class OpenAiRoute {
  private readonly images: ImageFetcher;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly pipeline: GatewayPipeline,
    private readonly runner: AttemptRunner,
    private readonly ownership: OwnershipService,
    private readonly settings: RuntimeSettings,
  ) {
    this.images = new ImageFetcher({ proxy: config.upstreamProxy });
  }

  handle(
    endpoint: OpenAiEndpoint,
    req: IncomingMessage,
    res: ServerResponse,
    requestId: string,
    startedAt: number,
    startedAtPerf: number,
  ): void {
    if (endpoint.kind === 'method-not-allowed') {
      req.resume();
      const body = openAiErrorBody(
        `Method ${req.method} is not allowed here; use ${endpoint.allow}.`,
        'invalid_request_error',
        'method_not_allowed',
      );
      return sendOpenAiError(res, 405, body, { allow: endpoint.allow });
    }
    // the allow-list: chat and embeddings name their model in the body, checked once it is read
    declareModelSource(req, endpoint.kind === 'models' ? 'none' : endpoint.kind === 'model' ? 'named' : 'body');
    this.pipeline.start(
      {
        req,
        res,
        requestId,
        startedAt,
        startedAtPerf,
        method: ENDPOINT_METHOD[endpoint.kind],
        // the allow-list sees the real model of an alias
        model: endpoint.kind === 'model' ? this.settings.catalogue.resolve(endpoint.id.replace(/^models\//, '')) : null,
        stream: false,
        queryKey: null,
        errors: writeOpenAiError,
        maxBodyBytes: this.config.maxOpenAiBodyBytes,
        bodyMemoryFactor: OPENAI_BODY_MEMORY_FACTOR,
      },
      // anything else that throws ends in the pipeline's handler (500 in OpenAI's shape, the key freed)
      (ex, body) =>
        this.dispatch(endpoint, ex, body as Buffer[]).catch((e: unknown) => {
          if (e instanceof InvalidRequestError) return this.invalid(ex, e);
          throw e;
        }),
    );
  }

  private async dispatch(endpoint: OpenAiEndpoint, ex: Exchange, body: Buffer[]): Promise<void> {
    switch (endpoint.kind) {
      case 'chat':
        return this.chat(ex, body);
      case 'embeddings':
        return this.embeddings(ex, body);
      case 'models': {
        const catalogue = this.settings.catalogue;
        return this.run(
          ex,
          'GET',
          '/v1beta/models?pageSize=1000',
          null,
          new JsonResponder((g) => toModelList(catalogue.active ? catalogue.listPage(g) : g), this.maxAnswer),
        );
      }
      case 'model': {
        const asked = endpoint.id.replace(/^models\//, '');
        if (!MODEL_ID.test(asked) || this.settings.catalogue.refuses(asked)) return this.noSuchModel(ex, endpoint.id);
        const real = this.settings.catalogue.resolve(asked);
        ex.model = real;
        return this.run(
          ex,
          'GET',
          `/v1beta/models/${real}`,
          null,
          // an alias is shown under its own name, as it was asked for
          new JsonResponder((g) => ({ ...toOpenAiModel(g), id: asked }), this.maxAnswer),
        );
      }
    }
  }

  private noSuchModel(ex: Exchange, id: string): void {
    ex.status = 404;
    ex.error = 'hidden or malformed model';
    writeOpenAiError(ex.res, 404, 'NOT_FOUND', `The model models/${id.slice(0, 128)} does not exist.`);
  }

  /**
   * The model a chat or embeddings request runs, through the catalogue: the default model when the body names
   * none, an alias resolved to its real model (written back into the body, so the upstream gets the real one).
   * A hidden model is refused with 404 (answered here: false).
   */
  private catalogueModel(ex: Exchange, json: unknown): boolean {
    const cat = this.settings.catalogue;
    if (!json || typeof json !== 'object' || Array.isArray(json)) return true;
    const body = json as { model?: unknown };
    if ((body.model === undefined || body.model === null || body.model === '') && cat.defaultModel) {
      body.model = cat.defaultModel;
    }
    const asked = requestedModel(body);
    if (asked === null || !cat.active) return true;
    if (cat.refuses(asked)) {
      this.noSuchModel(ex, asked);
      return false;
    }
    body.model = cat.resolve(asked);
    return true;
  }

  private async chat(ex: Exchange, body: Buffer[]): Promise<void> {
    const json = parseJson(body);
    if (!this.catalogueModel(ex, json)) return;
    // the key's model allow-list (fail closed), before any work (image fetches) is done for the request
    ex.model = requestedModel(json);
    if (!this.pipeline.modelAllowed(ex, ex.model, writeOpenAiError, true)) return;
    const req = await mapChatRequest(json, (url, param) => this.images.fetch(url, param, ex.abort.asAbortSignal()));
    ex.model = req.model;
    ex.stream = req.stream;
    if (ex.res.destroyed) return;
    // a cached content is the caller's own or does not exist for them (README "Resources: affinity and ownership")
    let pinned: string | null = null;
    if (req.cachedContent) {
      const v = await this.ownership.authorizeNames(ex.record?.userId ?? '', [req.cachedContent]);
      if (!v.ok) {
        ex.status = v.status;
        ex.error = v.status === 404 ? 'resource not found for this user' : 'resource records unavailable';
        const message =
          v.status === 404
            ? `The cached content ${req.cachedContent.slice(0, 200)} does not exist.`
            : 'Try again shortly.';
        return writeOpenAiError(ex.res, v.status, v.status === 404 ? 'NOT_FOUND' : 'UNAVAILABLE', message);
      }
      pinned = v.keyId;
    }
    const path = `/v1beta/models/${req.model}:${req.stream ? 'streamGenerateContent?alt=sse' : 'generateContent'}`;
    const responder = req.stream
      ? new ChatStreamResponder(req.model, req.includeUsage)
      : new JsonResponder((g, x) => {
          Object.assign(x, countedTokens(g['usageMetadata']));
          return toChatCompletion(g, req.model);
        }, this.maxAnswer);
    return this.run(ex, 'POST', path, req.body, responder, pinned);
  }

  private async embeddings(ex: Exchange, body: Buffer[]): Promise<void> {
    const json = parseJson(body);
    if (!this.catalogueModel(ex, json)) return;
    ex.model = requestedModel(json);
    if (!this.pipeline.modelAllowed(ex, ex.model, writeOpenAiError, true)) return;
    const req = mapEmbeddingsRequest(json);
    ex.model = req.model;
    return this.run(
      ex,
      'POST',
      `/v1beta/models/${req.model}:batchEmbedContents`,
      req.body,
      new JsonResponder((g) => toEmbeddings(g, req), this.maxAnswer),
    );
  }

  private run(
    ex: Exchange,
    method: string,
    path: string,
    json: Json | null,
    responder: Responder,
    pinned: string | null = null,
  ): Promise<void> {
    const headers: Record<string, string> = { 'accept-encoding': 'identity', 'x-request-id': ex.requestId };
    if (json) headers['content-type'] = 'application/json';
    const call: UpstreamCall = { method, path, headers, body: json ? [Buffer.from(JSON.stringify(json))] : [], pinned };
    return this.runner.run(ex, call, responder);
  }

  private get maxAnswer(): number {
    return this.config.maxAnswerBodyBytes;
  }

  private invalid(ex: Exchange, e: InvalidRequestError): void {
    ex.status = 400;
    ex.error = e.message;
    writeInvalidRequest(ex.res, e);
  }
}

function requestedModel(json: unknown): string | null {
  const m = (json as { model?: unknown } | null)?.model;
  return typeof m === 'string' ? m.replace(/^models\//, '') : null;
}

function parseJson(body: Buffer[]): unknown {
  const text = Buffer.concat(body).toString('utf8');
  // the chunks are not needed any more: one copy less held while the request is translated
  body.length = 0;
  try {
    return JSON.parse(text);
  } catch {
    throw new InvalidRequestError('We could not parse the JSON body of your request: it is not valid JSON.');
  }
}
