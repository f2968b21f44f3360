import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Span,
} from '@opentelemetry/api';
import { appTracer } from '@gg/nest-common';
import type { Exchange } from './exchange';

/**
 * The gateway's spans (README "Observability"), made only with tracing on (the caller checks once): one SERVER span
 * per request, continuing the client's `traceparent`, and one CLIENT span per upstream attempt after the
 * OpenTelemetry GenAI conventions. Ids, names and counts only: never a body, a prompt, an answer, a key or a query
 * string (a `?key=` lives there).
 */

/** `gen_ai.provider.name` of the Gemini Developer API */
export const GENAI_PROVIDER = 'gcp.gemini';

/** `gen_ai.operation.name` of a Gemini method or an OpenAI route; other methods keep their own name. */
export function operationOf(method: string): string {
  switch (method) {
    case 'generateContent':
    case 'streamGenerateContent':
      return 'generate_content';
    case 'chat.completions':
      return 'chat';
    case 'embedContent':
    case 'batchEmbedContents':
    case 'embeddings':
      return 'embeddings';
    default:
      return method;
  }
}

/** Attributes of the request known before its answer (the model may be learnt later, from the body). */
export function requestAttributes(ex: Pick<Exchange, 'method' | 'model' | 'requestId' | 'stream'>): Attributes {
  const a: Attributes = {
    'gen_ai.operation.name': operationOf(ex.method),
    'gen_ai.provider.name': GENAI_PROVIDER,
    'gg.request.id': ex.requestId,
    'gg.stream': ex.stream,
  };
  if (ex.model !== null) a['gen_ai.request.model'] = ex.model;
  return a;
}

/**
 * Runs `fn` (the request's whole chain: authentication, body, attempts) inside the request's SERVER span, a child
 * of the client's `traceparent` when it sent one; the span ends when the answer closes.
 */
export function traceExchange(ex: Exchange, fn: () => void): void {
  const parent = propagation.extract(ROOT_CONTEXT, ex.req.headers);
  const httpMethod = ex.req.method ?? 'GET';
  // "POST generateContent"; a route without a Gemini method is named "GET /v1beta/files" already
  const name = ex.method.includes(' ') ? ex.method : `${httpMethod} ${ex.method}`;
  const span = appTracer().startSpan(
    name,
    {
      kind: SpanKind.SERVER,
      attributes: {
        ...requestAttributes(ex),
        'http.request.method': httpMethod,
        'url.path': (ex.req.url ?? '/').split('?')[0].slice(0, 300),
      },
    },
    parent,
  );
  ex.span = span;
  ex.res.once('close', () => endExchange(ex, span));
  context.with(trace.setSpan(parent, span), fn);
}

function endExchange(ex: Exchange, span: Span): void {
  const status = ex.status || ex.res.statusCode || 499;
  span.setAttributes({
    ...finalAttributes(ex),
    'http.response.status_code': status,
    'gg.attempts': ex.attempts,
  });
  if (ex.poolKeyId !== null) span.setAttribute('gg.pool_key.id', ex.poolKeyId);
  // a server span fails on 5xx only (a 4xx is the client's); an answer cut after its headers fails too
  if (status >= 500 || (ex.incomplete && !!ex.error)) {
    span.setAttribute('error.type', status >= 500 ? String(status) : 'incomplete');
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}

/** The model and token counts as the request ended (a stream's counts are its last usageMetadata's). */
function finalAttributes(ex: Exchange): Attributes {
  const a: Attributes = {
    'gen_ai.usage.input_tokens': ex.promptTokens,
    'gen_ai.usage.output_tokens': ex.outputTokens,
  };
  if (ex.model !== null) a['gen_ai.request.model'] = ex.model;
  return a;
}

/** server.address and server.port of the upstream origin (GEMINI_BASE_URL), parsed once */
let upstream: { base: string; address: string; port: number } | null = null;

function upstreamOf(base: string): { address: string; port: number } {
  if (upstream?.base !== base) {
    const u = new URL(base);
    upstream = { base, address: u.hostname, port: Number(u.port) || (u.protocol === 'https:' ? 443 : 80) };
  }
  return upstream;
}

/** The CLIENT span of one upstream attempt on one pool key (its id only), a child of the request's span. */
export function startAttempt(ex: Exchange, parent: Span, keyId: string, baseUrl: string): Span {
  const operation = operationOf(ex.method);
  const { address, port } = upstreamOf(baseUrl);
  const name = ex.model === null ? operation : `${operation} ${ex.model}`;
  return appTracer().startSpan(
    name,
    {
      kind: SpanKind.CLIENT,
      attributes: {
        ...requestAttributes(ex),
        'server.address': address,
        'server.port': port,
        'gg.pool_key.id': keyId,
        'gg.attempt': ex.attempts,
      },
    },
    trace.setSpan(ROOT_CONTEXT, parent),
  );
}

/**
 * Ends an attempt's span: its upstream status (0: none came), on failure a low-cardinality `error.type` (the status,
 * or the error's code) and the pool's classification of it; token counts once an answer was relayed.
 */
export function endAttempt(
  span: Span,
  ex: Exchange,
  status: number,
  errorType: string | null,
  outcome?: string,
  answered = false,
): void {
  if (outcome) span.setAttribute('gg.outcome', outcome);
  if (status > 0) span.setAttribute('http.response.status_code', status);
  if (answered) span.setAttributes(finalAttributes(ex));
  if (errorType !== null) {
    span.setAttribute('error.type', errorType);
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}
