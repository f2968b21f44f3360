import type { UsageRecord } from '@gg/contracts';
import { Redis } from 'ioredis';
import type { AuthKeyRow, PoolKeyRow, UserRow } from '../db-manager';

/** Row builders and Redis cleanup for the DbManager contract suite. */

let seq = 0;
const next = () => String(++seq).padStart(4, '0');

export function userRow(over: Partial<UserRow> = {}): UserRow {
  const n = next();
  return {
    id: `u-${n}`,
    username: `user${n}`,
    passwordHash: '$2a$04$hash',
    role: 'user',
    isActive: true,
    tokenVersion: 0,
    createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
    ...over,
  };
}

export function authKeyRow(userId: string, over: Partial<AuthKeyRow> = {}): AuthKeyRow {
  const n = next();
  return {
    id: `k-${n}`,
    userId,
    name: `key ${n}`,
    prefix: `gg-${n}`,
    hash: `hash-${n}`,
    isActive: true,
    callCount: 0,
    promptTokens: 0,
    outputTokens: 0,
    createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
    lastUsedAt: null,
    expiresAt: null,
    rateLimitPerMinute: null,
    allowedModels: null,
    previousHash: null,
    previousHashExpiresAt: null,
    ...over,
  };
}

export function usageRecord(key: { id: string; userId: string }, over: Partial<UsageRecord> = {}): UsageRecord {
  return {
    requestId: `r-${next()}`,
    at: new Date().toISOString(),
    userId: key.userId,
    authKeyId: key.id,
    poolKeyId: 'p-1',
    method: 'generateContent',
    model: 'gemini-2.5-flash',
    stream: false,
    status: 200,
    attempts: 1,
    latencyMs: 120,
    ttfbMs: 80,
    promptTokens: 10,
    outputTokens: 20,
    ...over,
  };
}

export function poolKeyRow(over: Partial<PoolKeyRow> = {}): PoolKeyRow {
  const n = next();
  return {
    id: `p-${n}`,
    secretEnc: `enc-${n}`,
    fingerprint: `fp-${n}`,
    masked: `AIza...${n}`,
    state: '{"status":"active"}',
    createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
    ...over,
  };
}

/** Delete every key under a namespace (the suite's own, unique per test). */
export async function deleteNamespace(redis: Redis, namespace: string): Promise<void> {
  let cursor = '0';
  do {
    const [nextCursor, keys] = await redis.scan(cursor, 'MATCH', `${namespace}:*`, 'COUNT', 500);
    cursor = nextCursor;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}
