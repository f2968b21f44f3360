import type { IncomingHttpHeaders } from 'node:http';

export type OpenAiEndpoint =
  | { kind: 'chat' }
  | { kind: 'embeddings' }
  | { kind: 'models' }
  | { kind: 'model'; id: string }
  /** an OpenAI path with a method it does not serve */
  | { kind: 'method-not-allowed'; allow: string };

/** The counted method name of each endpoint. */
export const ENDPOINT_METHOD: Record<OpenAiEndpoint['kind'], string> = {
  chat: 'chat.completions',
  embeddings: 'embeddings',
  models: 'models.list',
  model: 'models.get',
  'method-not-allowed': 'openai',
};

function isBearer(headers: IncomingHttpHeaders): boolean {
  const a = headers.authorization;
  return typeof a === 'string' && a.length > 7 && a.slice(0, 7).toLowerCase() === 'bearer ';
}

/**
 * Which OpenAI-compatible endpoint a request is for, or null for the native path. `/v1/chat/completions` and
 * `/v1/embeddings` have no native meaning and are always OpenAI's. `/v1/models` is shared with Gemini: it is
 * OpenAI's only when called the way the OpenAI SDK does, with `Authorization: Bearer` and neither
 * `x-goog-api-key` nor `?key=` (the Gemini SDK sends `x-goog-api-key` and keeps its native answer).
 * Only called for URLs under `/v1/`, so the native hot path pays one `startsWith`.
 */
export function openAiEndpoint(
  method: string | undefined,
  url: string,
  headers: IncomingHttpHeaders,
): OpenAiEndpoint | null {
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  if (path === '/v1/chat/completions' || path === '/v1/embeddings') {
    if (method !== 'POST') return { kind: 'method-not-allowed', allow: 'POST' };
    return { kind: path === '/v1/embeddings' ? 'embeddings' : 'chat' };
  }
  if (path !== '/v1/models' && !path.startsWith('/v1/models/')) return null;
  if (method !== 'GET' || !isBearer(headers) || headers['x-goog-api-key'] !== undefined) return null;
  if (q !== -1 && /(?:^|&)key=/.test(url.slice(q + 1))) return null;
  if (path === '/v1/models' || path === '/v1/models/') return { kind: 'models' };
  const id = path.slice('/v1/models/'.length);
  if (id === '' || id.includes('/') || id.includes(':') || /%3a/i.test(id)) return null;
  return { kind: 'model', id: safeDecode(id) };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
