import { z } from 'zod';
import { AUDIT_ACTIONS, AUDIT_TARGET_TYPES } from '../audit';
import { idField, intInRange, isoDateTime, LOGS_PAGE_MAX, queryNumber } from './common';
import { callerEnvelope, callerRequest } from './rpc';

const ACTION_MESSAGE = `action must be one of ${AUDIT_ACTIONS.join(', ')}`;
export const auditActionField = z.enum(AUDIT_ACTIONS, { error: ACTION_MESSAGE });

/** `GET /api/audit` and `auth.audit.query`'s `query`. */
export const auditQuerySchema = z.strictObject({
  limit: queryNumber(intInRange('limit', 1, LOGS_PAGE_MAX)).optional(),
  cursor: z
    .string({ error: 'cursor must be a string' })
    .max(512, { error: 'cursor must be at most 512 characters' })
    .optional(),
  /** a user id or a username */
  actor: z
    .string({ error: 'actor must be a user id or username' })
    .min(1, { error: 'actor must be a user id or username' })
    .max(128, { error: 'actor must be at most 128 characters' })
    .optional(),
  action: auditActionField.optional(),
  targetId: idField('targetId').optional(),
  since: isoDateTime('since').optional(),
});
export type AuditQueryInput = z.infer<typeof auditQuerySchema>;

/** `GET /api/audit/export`: the same filters, no paging (every matching entry, newest first). */
export const auditExportQuerySchema = auditQuerySchema.omit({ limit: true, cursor: true });
export type AuditExportQueryInput = z.infer<typeof auditExportQuerySchema>;

const auditValue = z.union([
  z.string().max(1024),
  z.number(),
  z.boolean(),
  z.null(),
  z.array(z.string().max(256)).max(100),
]);

/** What the admin records (`auth.audit.record`'s `event`); the actor's id comes from the caller proof. */
export const auditEventSchema = z.strictObject({
  actorName: z.string().max(128),
  address: z.string().max(64),
  action: auditActionField,
  targetType: z.enum(AUDIT_TARGET_TYPES),
  targetId: z.string().max(128).nullable(),
  targetName: z.string().max(256).nullable(),
  changes: z.record(z.string().max(64), auditValue).nullable(),
});

/** `auth.audit.query` */
export const auditQueryRequestSchema = callerRequest(z.object({ query: auditQuerySchema }));
export type AuditQueryRequest = Omit<z.infer<typeof auditQueryRequestSchema>, 'caller'>;

/**
 * `auth.audit.record`: the event and the admin's caller proof. Auth checks the proof's signature and role, not the
 * session: the action being recorded may itself have ended the actor's sessions (an admin changing their own role).
 */
export const auditRecordRequestSchema = z.strictObject({ ...callerEnvelope, event: auditEventSchema });
export type AuditRecordRequest = Omit<z.infer<typeof auditRecordRequestSchema>, 'caller'>;
