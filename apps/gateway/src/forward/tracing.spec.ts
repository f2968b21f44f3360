import type { Span } from '@opentelemetry/api';
import type { Exchange } from './exchange';
import { endAttempt, operationOf, requestAttributes } from './tracing';

/** A span that keeps what it is told. */
function recordingSpan(): Span & { attributes: Record<string, unknown>; status?: unknown; ended: boolean } {
  const span = {
    attributes: {} as Record<string, unknown>,
    status: undefined as unknown,
    ended: false,
    setAttribute(k: string, v: unknown) {
      span.attributes[k] = v;
      return span;
    },
    setAttributes(a: Record<string, unknown>) {
      Object.assign(span.attributes, a);
      return span;
    },
    setStatus(s: unknown) {
      span.status = s;
      return span;
    },
    end() {
      span.ended = true;
    },
  };
  return span as unknown as Span & typeof span;
}

const ex = { method: 'streamGenerateContent', model: 'gemini-2.5-pro', requestId: 'r1', stream: true } as Exchange;

describe('gateway spans: GenAI attributes', () => {
  it.each([
    ['generateContent', 'generate_content'],
    ['streamGenerateContent', 'generate_content'],
    ['chat.completions', 'chat'],
    ['embedContent', 'embeddings'],
    ['batchEmbedContents', 'embeddings'],
    ['embeddings', 'embeddings'],
    ['countTokens', 'countTokens'],
  ])('names the operation of %s %s', (method, operation) => {
    expect(operationOf(method)).toBe(operation);
  });

  it('describes the request by ids and names only; a request without a model has no model attribute', () => {
    expect(requestAttributes(ex)).toEqual({
      'gen_ai.operation.name': 'generate_content',
      'gen_ai.provider.name': 'gcp.gemini',
      'gen_ai.request.model': 'gemini-2.5-pro',
      'gg.request.id': 'r1',
      'gg.stream': true,
    });
    expect(requestAttributes({ ...ex, method: 'models.list', model: null })).not.toHaveProperty('gen_ai.request.model');
  });

  it('ends an answered attempt with its status and the token counts, a failed one with error.type and no counts', () => {
    const answered = recordingSpan();
    endAttempt(answered, { ...ex, promptTokens: 12, outputTokens: 34 } as Exchange, 200, null, undefined, true);
    expect(answered.attributes).toMatchObject({
      'http.response.status_code': 200,
      'gen_ai.usage.input_tokens': 12,
      'gen_ai.usage.output_tokens': 34,
    });
    expect(answered.attributes).not.toHaveProperty('error.type');
    expect(answered.status).toBeUndefined();
    expect(answered.ended).toBe(true);

    const refused = recordingSpan();
    endAttempt(refused, ex, 429, '429', 'rate_limited');
    expect(refused.attributes).toEqual({
      'http.response.status_code': 429,
      'error.type': '429',
      'gg.outcome': 'rate_limited',
    });
    expect(refused.status).toEqual({ code: 2 });

    const unreachable = recordingSpan();
    endAttempt(unreachable, ex, 0, 'ECONNREFUSED');
    expect(unreachable.attributes).toEqual({ 'error.type': 'ECONNREFUSED' });
  });
});
