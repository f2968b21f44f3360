import type { RequestLog } from '@gg/contracts';
import type { AuthKeyRow, PoolKeyRow, UserRow } from '../db-manager';

/**
 * How a row's fields are kept in a Redis hash: everything is a string, booleans are "1"/"0", and a null (or
 * absent optional) value is an absent field.
 */
type Kind = 'str' | 'num' | 'bool' | 'str?' | 'num?' | 'json?' | 'opt';
export type Schema<T> = { [K in keyof T]-?: Kind };

export const USER_FIELDS: Schema<UserRow> = {
  id: 'str',
  username: 'str',
  passwordHash: 'str',
  role: 'str',
  isActive: 'bool',
  tokenVersion: 'num',
  createdAt: 'str',
};

export const AUTH_KEY_FIELDS: Schema<AuthKeyRow> = {
  id: 'str',
  userId: 'str',
  name: 'str',
  prefix: 'str',
  hash: 'str',
  isActive: 'bool',
  callCount: 'num',
  promptTokens: 'num',
  outputTokens: 'num',
  createdAt: 'str',
  lastUsedAt: 'str?',
  expiresAt: 'str?',
  rateLimitPerMinute: 'num?',
  allowedModels: 'json?',
  previousHash: 'str?',
  previousHashExpiresAt: 'str?',
};

// the stored row: `requestId` is derived from `id` by the admin API (requestIdOfLog), not stored
export const LOG_FIELDS: Schema<Omit<RequestLog, 'requestId'>> = {
  id: 'str',
  at: 'str',
  userId: 'str',
  authKeyId: 'str',
  poolKeyId: 'str?',
  method: 'str',
  model: 'str?',
  stream: 'bool',
  status: 'num',
  attempts: 'num',
  latencyMs: 'num',
  ttfbMs: 'num?',
  promptTokens: 'num',
  outputTokens: 'num',
  error: 'opt',
};

export const POOL_KEY_FIELDS: Schema<PoolKeyRow> = {
  id: 'str',
  secretEnc: 'str',
  fingerprint: 'str',
  masked: 'str',
  state: 'str',
  createdAt: 'str',
};

export interface Encoded {
  /** field, value, field, value, ... */
  set: string[];
  /** fields to remove (null values) */
  del: string[];
}

/** Encode the fields present in `obj` (a full row or a patch); fields not in the schema are ignored. */
export function encode<T>(obj: Partial<T>, schema: Schema<T>): Encoded {
  const set: string[] = [];
  const del: string[] = [];
  for (const field of Object.keys(schema) as (keyof T & string)[]) {
    if (!(field in obj)) continue;
    const v = obj[field] as unknown;
    if (v === undefined) continue;
    if (v === null) del.push(field);
    else if (schema[field] === 'bool') set.push(field, v ? '1' : '0');
    else if (schema[field] === 'json?') set.push(field, JSON.stringify(v));
    else set.push(field, String(v));
  }
  return { set, del };
}

/** Decode a hash (HGETALL answer); an empty hash is a missing row. */
export function decode<T>(hash: Record<string, string> | null | undefined, schema: Schema<T>): T | null {
  if (!hash || Object.keys(hash).length === 0) return null;
  const out: Record<string, unknown> = {};
  for (const [field, kind] of Object.entries(schema) as [string, Kind][]) {
    const raw = hash[field];
    if (raw === undefined) {
      if (kind === 'opt') continue;
      out[field] =
        kind === 'str?' || kind === 'num?' || kind === 'json?'
          ? null
          : kind === 'num'
            ? 0
            : kind === 'bool'
              ? false
              : '';
      continue;
    }
    out[field] =
      kind === 'json?'
        ? JSON.parse(raw)
        : kind === 'num' || kind === 'num?'
          ? Number(raw)
          : kind === 'bool'
            ? raw === '1'
            : raw;
  }
  return out as T;
}
