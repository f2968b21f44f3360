import type { RequestLog, UsageRecord } from './types';

/**
 * The `x-request-id` of a request-log row: its id without the `.<12 hex>` the gateway appends to a client's own id
 * (apps/gateway usageIdFor); an id the gateway made (a UUID, no dot) is the request id itself.
 */
export function requestIdOfLog(id: string): string {
  return id.replace(/\.[0-9a-f]{12}$/, '');
}

/** A request-log row as the admin API answers it: with its `requestId`. */
export function withRequestId(log: RequestLog): RequestLog {
  return { ...log, requestId: requestIdOfLog(log.id) };
}

/** The request-log row of a usage record: the same fields, keyed by the request id (an absent error stays absent). */
export function usageToRequestLog(r: UsageRecord, at: string = r.at): RequestLog {
  return {
    id: r.requestId,
    at,
    userId: r.userId,
    authKeyId: r.authKeyId,
    poolKeyId: r.poolKeyId,
    method: r.method,
    model: r.model,
    stream: r.stream,
    status: r.status,
    attempts: r.attempts,
    latencyMs: r.latencyMs,
    ttfbMs: r.ttfbMs,
    promptTokens: r.promptTokens,
    outputTokens: r.outputTokens,
    ...(r.error !== undefined ? { error: r.error } : {}),
  };
}
