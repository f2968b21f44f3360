import type { RequestLog, UsageRecord } from './types';

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
