import type { AuditEntry, RequestLog } from '@gg/contracts';
import { EntitySchema } from 'typeorm';
import type { AuthKeyRow, PoolKeyRow, UserRow } from '../db-manager';

/** A request log row as stored: `error` is a nullable column. */
export type RequestLogEntity = Omit<RequestLog, 'error'> & {
  error: string | null;
};

export interface KvEntity {
  key: string;
  value: string;
  /** ISO time, or null for no expiry */
  expiresAt: string | null;
}

const text = { type: 'varchar' } as const;
const nullableText = { type: 'varchar', nullable: true } as const;
const int = { type: 'integer' } as const;

export const UserEntity = new EntitySchema<UserRow>({
  name: 'User',
  tableName: 'users',
  columns: {
    id: { ...text, primary: true },
    username: { ...text, unique: true },
    passwordHash: text,
    role: text,
    isActive: { type: 'boolean' },
    tokenVersion: { ...int, default: 0 },
    createdAt: text,
  },
});

export const AuthKeyEntity = new EntitySchema<AuthKeyRow>({
  name: 'AuthKey',
  tableName: 'auth_keys',
  columns: {
    id: { ...text, primary: true },
    userId: text,
    name: text,
    prefix: text,
    hash: { ...text, unique: true },
    isActive: { type: 'boolean' },
    callCount: { ...int, default: 0 },
    promptTokens: { ...int, default: 0 },
    outputTokens: { ...int, default: 0 },
    createdAt: text,
    lastUsedAt: nullableText,
    expiresAt: nullableText,
    rateLimitPerMinute: { ...int, nullable: true },
    /** JSON array of model ids */
    allowedModels: { type: 'simple-json', nullable: true },
    previousHash: nullableText,
    previousHashExpiresAt: nullableText,
  },
  indices: [
    { name: 'IDX_auth_keys_user', columns: ['userId'] },
    { name: 'IDX_auth_keys_previous_hash', columns: ['previousHash'] },
  ],
});

export const RequestLogSchema = new EntitySchema<RequestLogEntity>({
  name: 'RequestLog',
  tableName: 'request_logs',
  columns: {
    /** the UsageRecord's requestId */
    id: { ...text, primary: true },
    at: text,
    userId: text,
    authKeyId: text,
    poolKeyId: nullableText,
    method: text,
    model: nullableText,
    stream: { type: 'boolean' },
    status: int,
    attempts: int,
    latencyMs: int,
    ttfbMs: { ...int, nullable: true },
    promptTokens: int,
    outputTokens: int,
    error: nullableText,
  },
  indices: [
    { name: 'IDX_request_logs_at', columns: ['at', 'id'] },
    { name: 'IDX_request_logs_key_at', columns: ['authKeyId', 'at'] },
    { name: 'IDX_request_logs_user_at', columns: ['userId', 'at'] },
  ],
});

export const PoolKeyEntity = new EntitySchema<PoolKeyRow>({
  name: 'PoolKey',
  tableName: 'pool_keys',
  columns: {
    id: { ...text, primary: true },
    secretEnc: text,
    fingerprint: { ...text, unique: true },
    masked: text,
    state: text,
    createdAt: text,
  },
});

export const KvSchema = new EntitySchema<KvEntity>({
  name: 'Kv',
  tableName: 'kv',
  columns: {
    key: { ...text, primary: true },
    value: text,
    expiresAt: nullableText,
  },
});

/** An audit entry as stored: `changes` is JSON text. */
export const AuditEntrySchema = new EntitySchema<AuditEntry>({
  name: 'AuditEntry',
  tableName: 'audit_log',
  columns: {
    id: { ...text, primary: true },
    at: text,
    actorId: text,
    actorName: text,
    address: text,
    action: text,
    targetType: text,
    targetId: nullableText,
    targetName: nullableText,
    changes: { type: 'simple-json', nullable: true },
  },
  indices: [
    { name: 'IDX_audit_log_at', columns: ['at', 'id'] },
    { name: 'IDX_audit_log_actor_at', columns: ['actorId', 'at'] },
    { name: 'IDX_audit_log_target_at', columns: ['targetId', 'at'] },
  ],
});

export const ALL_ENTITIES = [UserEntity, AuthKeyEntity, RequestLogSchema, PoolKeyEntity, KvSchema, AuditEntrySchema];
