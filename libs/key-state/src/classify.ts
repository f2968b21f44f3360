/** Classifies one upstream answer (or network failure) into what it means for the pool key and the request. */
import type { OutcomeKind } from '@gg/contracts';
import { parseGoogleError, type GoogleErrorInfo } from './google-error';
import { headerValue, parseRetryAfterMs } from './retry-delay';
import { shortReason } from './sanitize';

export type UpstreamHeaders = Record<string, string | string[] | undefined>;

export interface UpstreamClassification {
  kind: OutcomeKind;
  /** from RetryInfo.retryDelay, else the Retry-After header, in ms (429 only) */
  retryDelayMs?: number;
  /** short, single line, never contains a key */
  reason: string;
  /** a 429 on a per-day quota (quotaId contains "PerDay"): the key rests until the next Pacific midnight */
  perDay?: boolean;
  /** 403 "Method doesn't allow unregistered callers": no key reached Google, a bug of ours; answer 502, don't retry */
  proxyBug?: boolean;
  /** a 503 (UNAVAILABLE, "The model is overloaded") or another 5xx that says overloaded: the model's state, not the key's */
  overloaded?: boolean;
}

const INVALID_KEY_MESSAGE = /API key not valid|API Key not found|API key expired/i;
const INVALID_KEY_REASON = /^API_KEY_(INVALID|EXPIRED)$/;
const BLOCKED_REASON = /^(CONSUMER_SUSPENDED|SERVICE_DISABLED|API_KEY_[A-Z_]*BLOCKED)$/;
const SUSPENDED_MESSAGE = /has been suspended/i;
/** SERVICE_DISABLED and API_KEY_*_BLOCKED as their messages say it, for 403s that carry no ErrorInfo */
const KEY_CONFIG_MESSAGE = /has not been used in project \S+ before or it is disabled|\bare blocked\b/i;
const UNREGISTERED_MESSAGE = /unregistered callers/i;
/** another key's file, cached content or resumable upload session: a matter of affinity, not of the key */
const AFFINITY_MESSAGE =
  /do not have permission to access (the )?(File|cached ?content)|CachedContent not found|permission to use this upload session/i;
const PER_DAY = /PerDay/i;
const OVERLOADED = /overloaded/i;
/** Non-JSON bodies (HTML error pages) can be large; only their start is worth reading. */
const MAX_TEXT_BODY = 4096;

function describe(status: number, err: GoogleErrorInfo, code: string | null): string {
  const head = code ? `${status} ${code}` : `${status}`;
  const message = err.json ? err.message : err.message.slice(0, MAX_TEXT_BODY);
  return shortReason(message ? `${head}: ${message}` : head);
}

function isInvalidKey(status: number, err: GoogleErrorInfo): boolean {
  if (status === 401) return true;
  if (err.reasons.some((r) => INVALID_KEY_REASON.test(r)) || INVALID_KEY_MESSAGE.test(err.message)) return true;
  if (status !== 403) return false;
  return (
    err.reasons.some((r) => BLOCKED_REASON.test(r)) ||
    SUSPENDED_MESSAGE.test(err.message) ||
    KEY_CONFIG_MESSAGE.test(err.message)
  );
}

function classifyRateLimit(err: GoogleErrorInfo, headers: UpstreamHeaders | undefined, now: number | undefined) {
  let retryDelayMs = err.retryDelayMs;
  if (retryDelayMs === undefined) {
    const dateHeader = headerValue(headers, 'date');
    const reference = now ?? (dateHeader ? Date.parse(dateHeader) : NaN);
    retryDelayMs = parseRetryAfterMs(
      headerValue(headers, 'retry-after'),
      Number.isNaN(reference) ? undefined : reference,
    );
  }
  const quotaId = err.quotaIds.find((q) => PER_DAY.test(q)) ?? err.quotaIds[0] ?? null;
  const code = [err.reasons[0] ?? err.status ?? 'RESOURCE_EXHAUSTED', quotaId].filter(Boolean).join(' ');
  const result: UpstreamClassification = { kind: 'rate_limited', reason: describe(429, err, code) };
  if (retryDelayMs !== undefined) result.retryDelayMs = retryDelayMs;
  if (quotaId && PER_DAY.test(quotaId)) result.perDay = true;
  return result;
}

/**
 * `status` is the upstream HTTP status, or 0 for a connect/read error or a timeout (pass the error's message as
 * `body` to keep it in the reason). `headers` are the upstream response headers (for Retry-After; an HTTP-date
 * Retry-After is taken relative to the response's Date header, or to `now` when given).
 */
export function classifyUpstream(
  status: number,
  body: string | undefined,
  headers?: UpstreamHeaders,
  now?: number,
): UpstreamClassification {
  if (status >= 200 && status < 300) return { kind: 'success', reason: `${status}` };
  if (status === 0) {
    const detail = body ? shortReason(`network error: ${body.slice(0, MAX_TEXT_BODY)}`) : 'network error or timeout';
    return { kind: 'transient', reason: detail };
  }
  const err = parseGoogleError(body);
  const code = err.reasons[0] ?? err.status;
  if (status === 429) return classifyRateLimit(err, headers, now);
  if (status >= 500 && status !== 501) {
    const result: UpstreamClassification = { kind: 'transient', reason: describe(status, err, code) };
    if (status === 503 || OVERLOADED.test(err.message)) result.overloaded = true;
    return result;
  }
  if (status === 403 && UNREGISTERED_MESSAGE.test(err.message)) {
    return { kind: 'client_error', reason: describe(status, err, code), proxyBug: true };
  }
  if (status === 403 && AFFINITY_MESSAGE.test(err.message)) {
    return { kind: 'affinity', reason: describe(status, err, code) };
  }
  if ((status === 400 || status === 401 || status === 403) && isInvalidKey(status, err)) {
    return { kind: 'invalid', reason: describe(status, err, code) };
  }
  return { kind: 'client_error', reason: describe(status, err, code) };
}
