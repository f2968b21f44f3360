import type { AuthKey, AuthKeyRecord } from '@gg/contracts';
import type { AuthKeyRow, UserRow } from '@gg/db';

/** The API view of a key: never its hash. */
export function toAuthKey(row: AuthKeyRow, now = Date.now()): AuthKey {
  const grace =
    row.previousHashExpiresAt && Date.parse(row.previousHashExpiresAt) > now ? row.previousHashExpiresAt : null;
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    isActive: row.isActive,
    callCount: row.callCount,
    promptTokens: row.promptTokens,
    outputTokens: row.outputTokens,
    createdAt: row.createdAt,
    lastUsedAt: row.lastUsedAt,
    expiresAt: row.expiresAt,
    rateLimitPerMinute: row.rateLimitPerMinute,
    allowedModels: row.allowedModels,
    previousKeyExpiresAt: grace,
  };
}

/**
 * What the gateway caches: active only when both the key and its owner are. `expiresAt` overrides the key's own
 * expiry for a previous secret kept by a rotation with grace (the gateway refuses it from then on by itself).
 */
export function toKeyRecord(row: AuthKeyRow, owner: UserRow | null, expiresAt: number | null = null): AuthKeyRecord {
  const own = row.expiresAt ? Date.parse(row.expiresAt) : null;
  return {
    id: row.id,
    userId: row.userId,
    isActive: row.isActive && owner !== null && owner.isActive,
    expiresAt: own === null ? expiresAt : expiresAt === null ? own : Math.min(own, expiresAt),
    rateLimitPerMinute: row.rateLimitPerMinute,
    allowedModels: row.allowedModels,
  };
}
