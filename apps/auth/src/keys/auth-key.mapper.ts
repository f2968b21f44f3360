import type { AuthKey, AuthKeyRecord } from '@gg/contracts';
import type { AuthKeyRow, UserRow } from '@gg/db';

/** The API view of a key: never its hash. */
export function toAuthKey(row: AuthKeyRow): AuthKey {
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
  };
}

/** What the gateway caches: active only when both the key and its owner are. */
export function toKeyRecord(row: AuthKeyRow, owner: UserRow | null): AuthKeyRecord {
  return {
    id: row.id,
    userId: row.userId,
    isActive: row.isActive && owner !== null && owner.isActive,
    expiresAt: row.expiresAt ? Date.parse(row.expiresAt) : null,
  };
}
