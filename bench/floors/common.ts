/**
 * What every floor shares: a plain Node `http` server on 127.0.0.1 that forwards each request to UPSTREAM with the
 * pool key POOL_KEY in place of the caller's key, and relays the answer as is. The floors differ only in the HTTP
 * client on the forwarding path. They are the bench's yardstick, not the product.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { announce } from '../lib/child';

export type Forward = (req: IncomingMessage, res: ServerResponse, headers: Record<string, string | string[]>) => void;

const HOP = new Set([
  'host',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-connection',
  'x-goog-api-key',
  'authorization',
]);
const HOP_DOWN = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-connection',
]);

export const UPSTREAM = process.env.UPSTREAM ?? 'http://127.0.0.1:1';
export const POOL_KEY = process.env.POOL_KEY ?? 'AIzaBenchPoolKey';

/** Request headers to send upstream: hop-by-hop and the caller's credentials dropped, the pool key added. */
export function upstreamHeaders(h: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const k in h) if (!HOP.has(k) && h[k] !== undefined) out[k] = h[k] as string | string[];
  out['x-goog-api-key'] = POOL_KEY;
  return out;
}

/** Response headers to send to the client. */
export function downstreamHeaders(h: Record<string, unknown>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const k in h) {
    const v = h[k];
    if (HOP_DOWN.has(k.toLowerCase()) || v === undefined || v === null) continue;
    out[k] = Array.isArray(v) ? v.map(String) : String(v);
  }
  return out;
}

export function fail(res: ServerResponse, e: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(502, { 'content-type': 'text/plain' });
  res.end(`floor: ${(e as Error).message}`);
}

export function serve(name: string, forward: Forward): void {
  const server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, (req, res) =>
    forward(req, res, upstreamHeaders(req.headers)),
  );
  server.listen(0, '127.0.0.1', () => {
    const a = server.address();
    const port = typeof a === 'object' && a ? a.port : 0;
    announce({ name, url: `http://127.0.0.1:${port}`, pid: process.pid });
  });
  process.once('SIGTERM', () => {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  });
}
