/**
 * Google's own OpenAI-compatible layer, `POST /{v}/openai/chat/completions` (docs/gemini-wire.md §2.9), unary only:
 * a `chat.completion` echoing the last user message, for the model the body names (`gemini-2.5-flash` or
 * `models/gemini-2.5-flash`). An unknown model gets Google's 404, array-wrapped as the compat layer sends errors.
 * Other `/openai/*` paths answer 404.
 */
import { isKnownModel } from './catalog';
import { isGoogleError, parseBody, type Json, type Reply, type RequestContext } from './context';
import { googleError, NOT_FOUND_PATH } from './errors';
import { opaqueId } from './google-json';

export function handleOpenAiCompat(ctx: RequestContext): Reply {
  if (ctx.req.method !== 'POST' || !/\/openai\/chat\/completions$/.test(ctx.path)) return NOT_FOUND_PATH;
  const body = parseBody(ctx);
  if (isGoogleError(body)) return body;
  const model = typeof body?.['model'] === 'string' ? body['model'].replace(/^models\//, '') : '';
  if (!isKnownModel(model)) {
    const e = googleError(404, `models/${model} is not found for API version ${ctx.version}`, 'NOT_FOUND');
    return { status: 404, json: [JSON.parse(e.body)] };
  }
  const messages = Array.isArray(body?.['messages']) ? (body['messages'] as Json[]) : [];
  const last = [...messages].reverse().find((m) => m?.['role'] === 'user');
  const text = typeof last?.['content'] === 'string' ? last['content'] : '';
  const words = Math.max(1, text.split(/\s+/).filter(Boolean).length);
  return {
    json: {
      id: opaqueId(`${model}|${text}`, 23),
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model,
      choices: [{ index: 0, message: { role: 'assistant', content: `echo: ${text}` }, finish_reason: 'stop' }],
      usage: { prompt_tokens: words, completion_tokens: words + 1, total_tokens: 2 * words + 1 },
    },
  };
}
