/** The Live API's wire facts the relay needs: its paths, close codes and reasons, usage messages. Pure functions. */
import type { GoogleStatus } from '@gg/contracts';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

const LIVE_PATH =
  /^\/\/?ws\/google\.ai\.generativelanguage\.(v1beta|v1alpha)\.GenerativeService\.(BidiGenerateContent|BidiGenerateContentConstrained)$/;

export interface LiveTarget {
  version: 'v1beta' | 'v1alpha';
  /** `…BidiGenerateContentConstrained`: an ephemeral token's endpoint */
  constrained: boolean;
  /** the `key` query parameter, if any */
  queryKey: string | null;
}

/**
 * The Live endpoint an upgrade asks for, or null. The SDK asks for `//ws/…` when its base URL ends in `/`, so one
 * extra slash is accepted. Nothing of the client's path or query is passed on: the upstream URL is built anew.
 */
export function liveTargetOf(url: string): LiveTarget | null {
  const q = url.indexOf('?');
  const m = LIVE_PATH.exec(q < 0 ? url : url.slice(0, q));
  if (!m) return null;
  const queryKey = q < 0 ? null : new URLSearchParams(url.slice(q + 1)).get('key');
  return { version: m[1] as LiveTarget['version'], constrained: m[2].endsWith('Constrained'), queryKey };
}

/** The upstream Live URL for a pool key: GEMINI_BASE_URL with ws(s) for http(s), its path prefix kept. */
export function upstreamLiveUrl(baseUrl: string, version: string, secret: string): string {
  const u = new URL(baseUrl);
  const scheme = u.protocol === 'https:' ? 'wss:' : 'ws:';
  const prefix = u.pathname.replace(/\/+$/, '');
  return (
    `${scheme}//${u.host}${prefix}/ws/google.ai.generativelanguage.${version}.GenerativeService.BidiGenerateContent` +
    `?key=${encodeURIComponent(secret)}`
  );
}

/**
 * An HTTP error in Google's shape written on the raw socket of an upgrade that is refused (no 101 was sent), then
 * the socket is ended.
 */
export function refuseUpgrade(
  socket: Duplex,
  code: number,
  status: GoogleStatus,
  message: string,
  requestId: string,
  headers: Record<string, string> = {},
): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ error: { code, message, status } });
  let head =
    `HTTP/1.1 ${code} ${STATUS_CODES[code] ?? 'Error'}\r\n` +
    'content-type: application/json; charset=UTF-8\r\n' +
    `content-length: ${Buffer.byteLength(body)}\r\n` +
    `x-request-id: ${requestId}\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  socket.end(`${head}connection: close\r\n\r\n${body}`);
}

/** A close reason is at most 123 bytes (RFC 6455 §5.5): a longer one is cut on a character boundary. */
export function fitReason(reason: string): string {
  if (Buffer.byteLength(reason) <= 123) return reason;
  let out = reason.slice(0, 123);
  while (Buffer.byteLength(out) > 123) out = out.slice(0, -1);
  return out;
}

/** Close codes that end a session normally (1005: a close frame with no code). */
export function isNormalClose(code: number): boolean {
  return code === 1000 || code === 1001 || code === 1005;
}

/**
 * The code to send on one side for a close received from the other: codes that may not be sent (1005 none, 1006 the
 * connection was lost, 1015 TLS) become nothing (1005), 1014 (the upstream is gone: bad gateway) or 1011.
 */
export function relayedCloseCode(code: number): number | undefined {
  if (code === 1005) return undefined;
  if (code === 1006) return 1014;
  if ((code >= 1000 && code <= 1014 && code !== 1004) || (code >= 3000 && code <= 4999)) return code;
  return 1011;
}

const INVALID_KEY = /API key not valid|API_KEY_INVALID|API key expired|API Key not found/i;
const KEY_BLOCKED = /has been suspended|CONSUMER_SUSPENDED|SERVICE_DISABLED|unregistered callers|are blocked/i;
const QUOTA = /quota|RESOURCE_EXHAUSTED|rate limit|too many requests/i;

/**
 * What an upstream close tells about its pool key, as the HTTP answer `classifyUpstream` understands: the Live API
 * reports a refused key, an exhausted quota or an overloaded model by closing the socket with a code and a reason
 * (e.g. 1007 "API key not valid…", 1011 "…exceeded your current quota…"). A lost connection or an internal error is
 * a 503 (transient); a policy or payload error that names no key problem is the client's own (400).
 */
export function closeAsHttp(code: number, reason: string): { status: number; body: string } {
  let status: number;
  let googleStatus: GoogleStatus;
  if (INVALID_KEY.test(reason)) [status, googleStatus] = [400, 'INVALID_ARGUMENT'];
  else if (KEY_BLOCKED.test(reason)) [status, googleStatus] = [403, 'PERMISSION_DENIED'];
  else if (QUOTA.test(reason)) [status, googleStatus] = [429, 'RESOURCE_EXHAUSTED'];
  else if (code === 1006 || code === 1011 || code === 1012 || code === 1013 || code === 1014)
    [status, googleStatus] = [503, 'UNAVAILABLE'];
  else [status, googleStatus] = [400, 'INVALID_ARGUMENT'];
  const message = reason || `the upstream closed the Live session with code ${code}`;
  return { status, body: JSON.stringify({ error: { code: status, message, status: googleStatus } }) };
}

/** The close code a client gets when no pool key could open its session, from the last upstream status. */
export function failureCloseCode(status: number): number {
  if (status === 429 || status === 503) return 1013;
  if (status === 0 || status >= 500 || status === 401 || status === 403) return 1011;
  return 1008;
}

export interface LiveTokens {
  prompt: number;
  output: number;
}

const USAGE = Buffer.from('"usageMetadata"');

/**
 * The tokens of a server message that carries `usageMetadata`, else null.
 * Only messages that contain the field name are parsed: audio chunks are never decoded.
 */
export function usageOf(data: Buffer): LiveTokens | null {
  if (data.indexOf(USAGE) < 0) return null;
  let msg: { usageMetadata?: Record<string, unknown> };
  try {
    msg = JSON.parse(data.toString('utf8')) as typeof msg;
  } catch {
    return null;
  }
  const u = msg?.usageMetadata;
  if (!u || typeof u !== 'object') return null;
  const n = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0);
  // as for REST (docs/api.md §3.7): tool-use prompt tokens are prompt tokens, thoughts are output
  return {
    prompt: n(u['promptTokenCount']) + n(u['toolUsePromptTokenCount']),
    output: n(u['responseTokenCount'] ?? u['candidatesTokenCount']) + n(u['thoughtsTokenCount']),
  };
}

/** The model of a setup message (`{setup:{model}}`), or null when the message is not a setup that names one. */
export function setupModelOf(data: Buffer): string | null {
  let msg: { setup?: { model?: unknown } };
  try {
    msg = JSON.parse(data.toString('utf8')) as typeof msg;
  } catch {
    return null;
  }
  const model = msg?.setup?.model;
  return typeof model === 'string' && model.trim() !== '' ? model.trim() : null;
}
