/** Response headers like Google's (docs/gemini-wire.md §6.1) and the helpers that write unary bodies. */
import type { ServerResponse } from 'node:http';
import { constants, gzipSync } from 'node:zlib';

import type { GoogleError } from './errors';

// prettier-ignore
const COMMON: readonly string[] = [
  'Vary', 'Origin',
  'Vary', 'X-Origin',
  'Vary', 'Referer',
  'Server', 'scaffolding on HTTPServer2',
  'X-XSS-Protection', '0',
  'X-Frame-Options', 'SAMEORIGIN',
  'X-Content-Type-Options', 'nosniff',
  'Alt-Svc', 'h3=":443"; ma=2592000,h3-29=":443"; ma=2592000',
];

export const JSON_HEADERS: readonly string[] = ['Content-Type', 'application/json; charset=UTF-8', ...COMMON];
// prettier-ignore
export const SSE_HEADERS: readonly string[] = [
  'Content-Type', 'text/event-stream',
  'Content-Disposition', 'attachment',
  ...COMMON,
];
/** Google sends gzip bodies chunked (no Content-Length). */
export const GZIP_HEADERS: readonly string[] = ['Content-Encoding', 'gzip', 'Transfer-Encoding', 'chunked'];

/** A body computed once and sent many times, with its gzip form made on first use. */
export class Prepared {
  readonly plain: Buffer;
  private gz: Buffer | undefined;
  private readonly plainLength: string;

  constructor(
    readonly status: number,
    text: string,
  ) {
    this.plain = Buffer.from(text);
    this.plainLength = String(this.plain.length);
  }

  send(res: ServerResponse, gzip: boolean, extra?: readonly string[]): void {
    if (gzip) {
      this.gz ??= gzipSync(this.plain, { level: constants.Z_BEST_SPEED });
      const headers = extra ? [...JSON_HEADERS, ...GZIP_HEADERS, ...extra] : [...JSON_HEADERS, ...GZIP_HEADERS];
      res.writeHead(this.status, headers);
      res.end(this.gz);
      return;
    }
    const headers = extra
      ? [...JSON_HEADERS, 'Content-Length', this.plainLength, ...extra]
      : [...JSON_HEADERS, 'Content-Length', this.plainLength];
    res.writeHead(this.status, headers);
    res.end(this.plain);
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  text: string,
  gzip: boolean,
  extra?: readonly string[],
): void {
  new Prepared(status, text).send(res, gzip, extra);
}

export function sendError(res: ServerResponse, err: GoogleError, gzip: boolean, arrayWrapped = false): void {
  // Failed no-alt streams come back array-wrapped, like `[{"error": …}]` (docs/gemini-wire.md §2.3 B).
  const text = arrayWrapped ? `[${err.body.trimEnd()}\n]` : err.body;
  new Prepared(err.code, text).send(res, gzip);
}

export function wantsGzip(acceptEncoding: string | undefined): boolean {
  return (
    acceptEncoding !== undefined && acceptEncoding.includes('gzip') && !/gzip\s*;\s*q=0(?:\.0+)?\b/.test(acceptEncoding)
  );
}
