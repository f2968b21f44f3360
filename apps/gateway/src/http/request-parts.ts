import type { IncomingHttpHeaders } from 'node:http';

/** What the forwarding path needs from a request target, without `new URL()` on the hot path. */
export interface Target {
  /** path as sent (percent-encoding kept) */
  path: string;
  /** raw query without the leading '?', `key` removed */
  query: string;
  /** the `key` query parameter, if any */
  queryKey: string | null;
  /** `models/{model}` or `tunedModels/{id}` id, decoded */
  model: string | null;
  /** the custom method after the last ':' (generateContent, streamGenerateContent, …) */
  method: string | null;
  /** `alt=sse` was asked for */
  sse: boolean;
}

const MODEL_RE = /\/(?:models|tunedModels)\/((?:[^/:%]|%(?!3A))+)(?:(?::|%3A)([A-Za-z]+))?$/i;

export function parseTarget(url: string): Target {
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  let query = '';
  let queryKey: string | null = null;
  let sse = false;
  if (q !== -1) {
    const kept: string[] = [];
    for (const part of url.slice(q + 1).split('&')) {
      if (part === '') continue;
      if (part.startsWith('key=')) {
        queryKey = safeDecode(part.slice(4));
        continue;
      }
      if (part === 'alt=sse') sse = true;
      kept.push(part);
    }
    query = kept.join('&');
  }
  const m = MODEL_RE.exec(path);
  return {
    path,
    query,
    queryKey,
    model: m ? safeDecode(m[1]) : null,
    method: m && m[2] ? m[2] : null,
    sse,
  };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

/** The user key from `x-goog-api-key`, `?key=` or `Authorization: Bearer`. */
export function credentialOf(headers: IncomingHttpHeaders, queryKey: string | null): string | null {
  const h = headers['x-goog-api-key'];
  if (typeof h === 'string' && h !== '') return h.trim();
  if (queryKey) return queryKey.trim();
  const auth = headers.authorization;
  if (typeof auth === 'string' && auth.length > 7 && auth.slice(0, 7).toLowerCase() === 'bearer ') {
    return auth.slice(7).trim();
  }
  return null;
}

/** Headers never forwarded upstream: hop-by-hop, the client's credentials, what the gateway sets itself. */
const DROP_UPSTREAM = new Set([
  'host',
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'authorization',
  'x-goog-api-key',
  'content-length',
  'accept-encoding',
  'cookie',
  'expect',
]);

/** End-to-end request headers to forward (the pool key and content-length are added per attempt). */
export function upstreamHeaders(headers: IncomingHttpHeaders, requestId: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    if (DROP_UPSTREAM.has(name)) continue;
    const v = headers[name];
    if (v !== undefined) out[name] = v;
  }
  out['accept-encoding'] = 'identity';
  out['x-request-id'] = requestId;
  return out;
}

const DROP_DOWNSTREAM = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'alt-svc',
]);

/** Upstream response headers to send on to the client (hop-by-hop and Alt-Svc dropped). */
export function downstreamHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    if (DROP_DOWNSTREAM.has(name)) continue;
    const v = headers[name];
    if (v !== undefined) out[name] = v;
  }
  return out;
}
