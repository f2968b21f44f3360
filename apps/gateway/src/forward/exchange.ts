import type { AuthKeyRecord, GoogleStatus } from '@gg/contracts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import type { RequestAbort } from './request-abort';

/** State of one client request on its way through the gateway. */
export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  requestId: string;
  startedAt: number;
  /** performance.now() at arrival */
  startedAtPerf: number;
  /** what is counted and logged: the Gemini method (generateContent, …) or a route name */
  method: string;
  model: string | null;
  stream: boolean;
  record?: AuthKeyRecord;
  attempts: number;
  poolKeyId: string | null;
  /** ms spent waiting for upstream response heads, summed over attempts */
  upstreamWaitMs: number;
  ttfbMs: number | null;
  status: number;
  error?: string;
  promptTokens: number;
  outputTokens: number;
  abort: RequestAbort;
  deadlineHit: boolean;
}

/** Writes an error the gateway itself produces, in the shape of the route (Google's or OpenAI's). */
export type ErrorWriter = (res: ServerResponse, code: number, status: GoogleStatus, message: string, headers?: Record<string, string>) => void;

/** One upstream request, tried on up to MAX_ATTEMPTS pool keys. */
export interface UpstreamCall {
  method: string;
  /** path and query as sent upstream (below GEMINI_BASE_URL) */
  path: string;
  /** end-to-end headers to send, owned by this call: the runner sets the pool key of each attempt in it */
  headers: Record<string, string | string[]>;
  body: Buffer[];
  /** the pool key that owns a referenced file, upload or cached content */
  pinned: string | null;
}

export interface UpstreamFailure {
  status: number;
  headers: Dispatcher.ResponseData['headers'];
  body: Buffer;
}

/** What to do with the answer: the native path relays it as is; the OpenAI path translates it. */
export interface Responder {
  /** A successful answer. Call `release` when the body has ended or broke, `broken` if it broke. */
  success(ex: Exchange, up: Dispatcher.ResponseData, keyId: string, release: () => void, broken: (reason: string) => void): void;
  /** The last upstream error, once no other key will be tried. */
  upstreamError(ex: Exchange, failure: UpstreamFailure): void;
  /** An error the gateway produces (no key, unreachable, deadline). */
  errors: ErrorWriter;
}
