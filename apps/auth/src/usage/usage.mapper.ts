import type { UsageRecord } from '@gg/contracts';

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
