import type { IncomingHttpHeaders } from 'node:http';

export { parseTarget, type Target } from './target';

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

/**
 * Headers that describe the client's hops or the page it came from, never forwarded: Google sees the gateway as
 * its client. `x-http-method-override` is dropped too: it would let a GET (a list, allowed to any key) run as a
 * POST (a create) upstream, past the model allow-list.
 */
const DROP_CLIENT = new Set([
  'forwarded',
  'via',
  'x-real-ip',
  'origin',
  'referer',
  'x-http-method-override',
  // the client's trace context ends at the gateway (its span continues it): Google is no part of the client's trace
  'traceparent',
  'tracestate',
  'baggage',
]);

/**
 * End-to-end request headers to forward (the pool key and content-length are added per attempt): hop-by-hop
 * headers, those the `Connection` header names, the client's hops (`forwarded`, `x-forwarded-*`, `via`,
 * `x-real-ip`), `origin`/`referer` and the W3C trace context (`traceparent`, `tracestate`, `baggage`) are dropped.
 */
export function upstreamHeaders(headers: IncomingHttpHeaders, requestId: string): Record<string, string | string[]> {
  const named = connectionNamed(headers.connection);
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    if (DROP_UPSTREAM.has(name) || DROP_CLIENT.has(name) || name.startsWith('x-forwarded-')) continue;
    if (named !== null && named.has(name)) continue;
    const v = headers[name];
    if (v !== undefined) out[name] = v;
  }
  out['accept-encoding'] = 'identity';
  out['x-request-id'] = requestId;
  return out;
}

/** The header names a `Connection` header lists (hop-by-hop by that listing), or null for none but the usual. */
function connectionNamed(value: string | undefined): Set<string> | null {
  if (value === undefined) return null;
  const v = value.toLowerCase();
  if (v === 'keep-alive' || v === 'close') return null;
  const names = new Set<string>();
  for (const part of v.split(',')) {
    const name = part.trim();
    if (name !== '' && name !== 'keep-alive' && name !== 'close') names.add(name);
  }
  return names.size > 0 ? names : null;
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
export function downstreamHeaders(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    if (DROP_DOWNSTREAM.has(name)) continue;
    const v = headers[name];
    if (v !== undefined) out[name] = v;
  }
  return out;
}
