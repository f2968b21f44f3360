import type { GoogleStatus } from '@gg/contracts';
import type { ServerResponse } from 'node:http';

/** OpenAI's error body: `{"error":{"message","type","param","code"}}`. */
export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** A request the gateway cannot map: answered 400 `invalid_request_error`, naming the offending parameter. */
export class InvalidRequestError extends Error {
  constructor(
    message: string,
    readonly param: string | null = null,
  ) {
    super(message);
    this.name = 'InvalidRequestError';
  }
}

const TYPE_BY_STATUS: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'invalid_request_error',
  413: 'invalid_request_error',
  429: 'rate_limit_error',
};

/** The OpenAI `type` and `code` of an HTTP status, with the Google status as a fallback code. */
export function openAiKind(httpStatus: number, googleStatus?: string, message = ''): { type: string; code: string } {
  const type = TYPE_BY_STATUS[httpStatus] ?? (httpStatus >= 500 ? 'server_error' : 'invalid_request_error');
  switch (httpStatus) {
    case 400:
      return { type, code: 'invalid_request_error' };
    case 404:
      return { type, code: /\bmodels\//.test(message) ? 'model_not_found' : 'not_found' };
    case 413:
      return { type, code: 'request_too_large' };
    case 429:
      return { type, code: 'rate_limit_exceeded' };
    case 504:
      return { type, code: 'timeout' };
  }
  return { type, code: (googleStatus ?? (httpStatus >= 500 ? 'internal' : 'error')).toLowerCase() };
}

export function openAiErrorBody(
  message: string,
  type: string,
  code: string | null,
  param: string | null = null,
): OpenAiErrorBody {
  return { error: { message, type, param, code } };
}

/**
 * The ErrorWriter of the OpenAI routes: the gateway's own errors in OpenAI's shape. 401 is `invalid_api_key`.
 * 502 and 504 come after the gateway's own retries, so the SDK is told not to retry again.
 */
export function writeOpenAiError(
  res: ServerResponse,
  code: number,
  status: GoogleStatus,
  message: string,
  headers?: Record<string, string>,
): void {
  const kind =
    code === 401 ? { type: 'invalid_request_error', code: 'invalid_api_key' } : openAiKind(code, status, message);
  const extra: Record<string, string> =
    code === 502 || code === 504 ? { 'x-should-retry': 'false', ...headers } : { ...headers };
  sendOpenAiError(res, code, openAiErrorBody(message, kind.type, kind.code), extra);
}

export function writeInvalidRequest(res: ServerResponse, e: InvalidRequestError): void {
  sendOpenAiError(res, 400, openAiErrorBody(e.message, 'invalid_request_error', 'invalid_request_error', e.param));
}

export function sendOpenAiError(
  res: ServerResponse,
  status: number,
  body: OpenAiErrorBody,
  headers?: Record<string, string>,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

interface GoogleErrorShape {
  code?: number;
  message?: string;
  status?: string;
  details?: { '@type'?: string; retryDelay?: string }[];
}

/** Google's error (plain or array-wrapped) as OpenAI's, keeping the HTTP status; plus a Retry-After from RetryInfo. */
export function fromGoogleError(
  httpStatus: number,
  body: Buffer | string,
): { body: OpenAiErrorBody; retryAfter: number | null } {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  let err: GoogleErrorShape | undefined;
  try {
    const v = JSON.parse(text) as unknown;
    const first = Array.isArray(v) ? v[0] : v;
    err = (first as { error?: GoogleErrorShape } | undefined)?.error;
  } catch {
    err = undefined;
  }
  const message = err?.message || text.trim().slice(0, 500) || `Upstream answered HTTP ${httpStatus}.`;
  const kind = openAiKind(httpStatus, err?.status, message);
  const delay = err?.details?.find((d) => d['@type']?.endsWith('RetryInfo'))?.retryDelay;
  const seconds = delay ? Math.ceil(parseFloat(delay)) : NaN;
  return {
    body: openAiErrorBody(message, kind.type, kind.code),
    retryAfter: Number.isFinite(seconds) && seconds > 0 ? seconds : null,
  };
}
