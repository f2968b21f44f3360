import type { IncomingMessage } from 'node:http';
import type { TrustFn } from '@gg/nest-common';

/** A host header value we would put in a URL: name or address, optional port, nothing else. */
const HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * Where clients reach this gateway, for URLs it hands out (the resumable upload URL): PUBLIC_BASE_URL when set;
 * otherwise the request's Host, with `X-Forwarded-Proto`/`X-Forwarded-Host` believed only when the socket's peer
 * is a trusted proxy (TRUSTED_PROXIES). Any client can send those headers; only a proxy we trust may set them.
 */
export function publicOrigin(
  req: IncomingMessage,
  publicBaseUrl: string | null,
  trust: TrustFn,
  fallbackHost: string,
): string {
  if (publicBaseUrl) return publicBaseUrl.replace(/\/+$/, '');
  const h = req.headers;
  const peer = req.socket?.remoteAddress;
  const proxied = peer !== undefined && trust(peer, 0);
  const fwdProto = proxied ? firstValue(h['x-forwarded-proto'])?.toLowerCase() : undefined;
  const fwdHost = proxied ? firstValue(h['x-forwarded-host']) : undefined;
  const proto = fwdProto === 'https' || fwdProto === 'http' ? fwdProto : 'http';
  const host = [fwdHost, h.host].find((v): v is string => v !== undefined && HOST.test(v)) ?? fallbackHost;
  return `${proto}://${host}`;
}

function firstValue(v: string | string[] | undefined): string | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  return s ? s.split(',')[0].trim() : undefined;
}
