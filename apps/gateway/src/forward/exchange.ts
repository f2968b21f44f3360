import type { AuthKeyRecord, GoogleStatus } from '@gg/contracts';
import type { Span } from '@opentelemetry/api';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { RequestAbort } from './request-abort';
import type { ResourcePlan } from '../resources/request-plan';

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
  /** each attempt's pool key id and outcome, as the runner settled it (the transaction log's `attempts`) */
  tried?: AttemptTrace[];
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
  /**
   * The answer's headers went out but its body did not end cleanly (the upstream broke, or the deadline cut it): the
   * request log keeps `error` although the status is the 2xx the client got.
   */
  incomplete?: boolean;
  /** owned resources the request names, lists, creates or deletes (native route); null/absent: none */
  resources?: ResourcePlan | null;
  /** the request's span, with tracing on (OTEL_EXPORTER_OTLP_ENDPOINT): its attempts' spans are its children */
  span?: Span;
}

/** One attempt of a request on one pool key: its id (never the secret), its outcome kind and the upstream status. */
export interface AttemptTrace {
  keyId: string;
  outcome: string;
  status: number;
}

/** Writes an error the gateway itself produces, in the shape of the route (Google's or OpenAI's). */
export type ErrorWriter = (
  res: ServerResponse,
  code: number,
  status: GoogleStatus,
  message: string,
  headers?: Record<string, string>,
) => void;

/** One upstream request, tried on up to MAX_ATTEMPTS pool keys. */
export interface UpstreamCall {
  method: string;
  /** path and query as sent upstream (below GEMINI_BASE_URL) */
  path: string;
  /** end-to-end headers to send, owned by this call: the runner sets the pool key of each attempt in it */
  headers: Record<string, string | string[]>;
  /** buffered (re-sent as is on a retry) or streamed (uploads: one attempt only) */
  body: Buffer[] | Readable;
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
  /**
   * A successful answer. Call `release` once when the body has ended, broke or the client left; call `broken` before
   * it when the answer did not end cleanly on the upstream's side (a break, the deadline, an error mid-stream): the
   * attempt's outcome is settled at the release (clean end: success; broken: one failure of the key).
   */
  success(
    ex: Exchange,
    up: Dispatcher.ResponseData,
    keyId: string,
    release: () => void,
    broken: (reason: string) => void,
  ): void;
  /** The last upstream error, once no other key will be tried. */
  upstreamError(ex: Exchange, failure: UpstreamFailure): void;
  /** An error the gateway produces (no key, unreachable, deadline). */
  errors: ErrorWriter;
}
