import type { RequestLog, UsageRecord } from '@gg/contracts';

export function toRequestLog(r: UsageRecord): RequestLog {
  return {
    id: r.requestId,
    at: r.at,
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

/** Enough of a record to store it; anything else in a job is dropped rather than failing the batch forever. */
export function isUsageRecord(r: unknown): r is UsageRecord {
  if (!r || typeof r !== 'object') return false;
  const u = r as Record<string, unknown>;
  return (
    typeof u.requestId === 'string' &&
    u.requestId.length > 0 &&
    typeof u.at === 'string' &&
    !Number.isNaN(Date.parse(u.at)) &&
    typeof u.userId === 'string' &&
    typeof u.authKeyId === 'string' &&
    typeof u.method === 'string' &&
    typeof u.status === 'number'
  );
}
