/**
 * The audit log: one entry per state-changing admin action (pool keys, users, another user's keys), written by
 * the admin through auth (`auth.audit.record`) after the action succeeded, read back with `GET /api/audit`.
 * An entry never holds a secret: a pool key only in its masked form, a password or user key secret only as the
 * fact that it changed.
 */

/** What an entry's `changes` may hold for one field. */
export type AuditValue = string | number | boolean | null | string[];

export const AUDIT_TARGET_TYPES = ['pool-key', 'pool', 'user', 'user-key', 'proxy', 'settings'] as const;
export type AuditTargetType = (typeof AUDIT_TARGET_TYPES)[number];

/** The actions recorded, `<target type>.<verb>`. */
export const AuditAction = {
  PoolKeyAdd: 'pool-key.add',
  PoolKeyDelete: 'pool-key.delete',
  PoolKeyReset: 'pool-key.reset',
  PoolKeyCheck: 'pool-key.check',
  /** a pool key bound to a proxy, or back to consistent hashing (`changes.proxyId` null) */
  PoolKeyBind: 'pool-key.bind',
  /** an upstream proxy added or deleted: named by its masked URL */
  ProxyAdd: 'proxy.add',
  ProxyDelete: 'proxy.delete',
  /** every pool key reset at once: target type `pool`, no id */
  PoolResetAll: 'pool.reset-all',
  UserCreate: 'user.create',
  /** role, active flag or password of a user (which ends that user's sessions) */
  UserUpdate: 'user.update',
  UserDelete: 'user.delete',
  /** an admin acting on another user's key (a user's own key changes are not admin actions) */
  UserKeyUpdate: 'user-key.update',
  UserKeyRotate: 'user-key.rotate',
  UserKeyDelete: 'user-key.delete',
  /** runtime settings or the model catalogue changed: `changes` holds each changed setting's new value */
  SettingsUpdate: 'settings.update',
} as const;
export type AuditActionName = (typeof AuditAction)[keyof typeof AuditAction];
export const AUDIT_ACTIONS = Object.values(AuditAction) as [AuditActionName, ...AuditActionName[]];

/** The value written into `changes` for a secret that changed (a password): the fact, never the value. */
export const AUDIT_SECRET_CHANGED = '(changed)';

/** What the admin sends: the entry without its id and time, and without the actor id (auth takes it from the proof). */
export interface AuditEvent {
  actorName: string;
  /** the client's address, as the admin sees it (TRUSTED_PROXIES applied) */
  address: string;
  action: AuditActionName;
  targetType: AuditTargetType;
  targetId: string | null;
  /** a name to recognise the target by: a username, a key name, a masked pool key */
  targetName: string | null;
  /** field -> new value (non-secret), or null when nothing but the action itself is worth saying */
  changes: Record<string, AuditValue> | null;
}

export interface AuditEntry extends AuditEvent {
  id: string;
  /** ISO-8601 */
  at: string;
  actorId: string;
}

export interface AuditQuery {
  limit?: number;
  cursor?: string;
  /** the actor's user id or username */
  actor?: string;
  action?: string;
  targetId?: string;
  /** ISO-8601: entries at or after */
  since?: string;
}
