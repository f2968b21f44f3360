/**
 * `/{v}/models/{m}:{method}`. Unary answers depend only on the body, so they are computed once per distinct body
 * and kept ready to send (the benchmark repeats the same request tens of thousands of times per second).
 */
import { isKnownModel } from './catalog';
import { isGoogleError, parseBody, type Json, type Reply, type RequestContext } from './context';
import { batchEmbedContents, countTokens, embedContent, predict } from './embed';
import { GoogleError, invalidArgument, modelNotFound } from './errors';
import { answer, unaryResponse } from './generate';
import { opaqueId, pretty } from './google-json';
import { Prepared } from './http-out';
import type { Store } from './store';
import { StreamSession, type Stoppable, type StreamPlan } from './stream';

const CACHEABLE_BODY = 64 * 1024;
const CACHE_ENTRIES = 2000;
/** Bodies that reference per-key state (files, cached contents) are never served from the cache. */
const REFERS_TO_STATE = /file_?[dD]ata|cached_?[cC]ontent/;

const NO_CONTENTS = invalidArgument('* GenerateContentRequest.contents: contents is not specified\n');

export class ModelMethods {
  private readonly cache = new Map<string, Prepared>();
  private streams = 0;

  constructor(
    private readonly store: Store,
    private readonly live: Set<Stoppable>,
  ) {}

  handle(ctx: RequestContext): Reply {
    if (!isKnownModel(ctx.model)) return modelNotFound(ctx.model, ctx.version, ctx.apiMethod);
    if (ctx.apiMethod === 'streamGenerateContent') return this.stream(ctx);
    if (ctx.body.length > CACHEABLE_BODY) return this.unary(ctx);
    const text = ctx.body.toString('latin1');
    if (REFERS_TO_STATE.test(text)) return this.unary(ctx);
    const cacheKey = `${ctx.apiMethod}|${ctx.model}|${text}`;
    const hit = this.cache.get(cacheKey);
    if (hit) return hit;
    const reply = this.unary(ctx);
    if (!(reply instanceof Prepared) || reply.status !== 200) return reply;
    if (this.cache.size >= CACHE_ENTRIES) this.cache.clear();
    this.cache.set(cacheKey, reply);
    return reply;
  }

  private unary(ctx: RequestContext): Reply {
    const body = parseBody(ctx);
    if (isGoogleError(body)) return body;
    const result = this.compute(ctx, body ?? {});
    return isGoogleError(result) ? result : new Prepared(200, pretty(result) + '\n');
  }

  private compute(ctx: RequestContext, body: Json): Json | GoogleError {
    switch (ctx.apiMethod) {
      case 'generateContent': {
        if (body['contents'] === undefined) return NO_CONTENTS;
        const refs = this.store.checkRefs(body, ctx.key);
        if (refs.error) return refs.error;
        const responseId = opaqueId(`${ctx.model}|${ctx.body.toString('latin1')}`, 23);
        return unaryResponse(answer(body, responseId, refs.cachedTokens), ctx.model, responseId);
      }
      case 'countTokens': {
        const inner = body['generateContentRequest'] ?? body['generate_content_request'];
        const refs = this.store.checkRefs(inner && typeof inner === 'object' ? inner : body, ctx.key);
        return refs.error ?? countTokens(body);
      }
      case 'embedContent':
        return embedContent(body);
      case 'batchEmbedContents':
        return batchEmbedContents(body, ctx.model);
      case 'predict':
        return predict(body);
      default:
        return modelNotFound(ctx.model, ctx.version, ctx.apiMethod);
    }
  }

  private stream(ctx: RequestContext): Reply {
    const body = parseBody(ctx);
    if (isGoogleError(body)) return body;
    if (!body || body['contents'] === undefined) return NO_CONTENTS;
    const refs = this.store.checkRefs(body, ctx.key);
    if (refs.error) return refs.error;
    const responseId = opaqueId(`stream|${++this.streams}|${process.pid}`, 23);
    const plan: StreamPlan = { answer: answer(body, responseId, refs.cachedTokens), intervalMs: 0 };
    const rule = ctx.rule;
    if (rule?.type === 'stream') {
      plan.texts = rule.chunks;
      plan.intervalMs = Math.max(0, rule.intervalMs ?? 0);
    } else if (rule?.type === 'resetMidStream' || rule?.type === 'errorMidStream') {
      plan.failAfter = Math.max(0, rule.afterChunks);
      plan.failMode = rule.type === 'resetMidStream' ? 'reset' : 'error';
    }
    const sse = ctx.query['alt'] === 'sse';
    new StreamSession(ctx.res, sse, ctx.gzip, plan, ctx.model, responseId, this.live);
    return 'streaming';
  }
}
