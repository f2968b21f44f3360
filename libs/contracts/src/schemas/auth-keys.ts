import { z } from 'zod';
import { ALLOWED_MODELS_MAX, GRACE_SECONDS_MAX, KEY_NAME_MAX, RATE_LIMIT_MAX } from '../limits';
import { idField, intInRange, isoDateTime } from './common';

export const KEY_NAME_MESSAGE = `name must be 1-${KEY_NAME_MAX} characters`;
export const RATE_MESSAGE = `rateLimitPerMinute must be an integer from 1 to ${RATE_LIMIT_MAX}, or null for no limit`;
export const MODELS_MESSAGE = `allowedModels must be a list of 1-${ALLOWED_MODELS_MAX} model ids, or null for any model`;
export const MODEL_ID_MAX = 200;

export const keyNameField = z
  .string({ error: KEY_NAME_MESSAGE })
  .min(1, { error: KEY_NAME_MESSAGE })
  .max(KEY_NAME_MAX, { error: KEY_NAME_MESSAGE });
/** null: no limit */
export const rateLimitField = intInRange('rateLimitPerMinute', 1, RATE_LIMIT_MAX, RATE_MESSAGE).nullable();
/** null: any model */
export const allowedModelsField = z
  .array(z.string({ error: MODELS_MESSAGE }).max(MODEL_ID_MAX, { error: MODELS_MESSAGE }), { error: MODELS_MESSAGE })
  .max(ALLOWED_MODELS_MAX, { error: MODELS_MESSAGE })
  .nullable();
export const graceSecondsField = z
  .number({ error: 'graceSeconds must be an integer' })
  .int({ error: 'graceSeconds must be an integer' })
  .min(0, { error: 'graceSeconds must be 0 or more' })
  .max(GRACE_SECONDS_MAX, { error: `graceSeconds must be at most ${GRACE_SECONDS_MAX} (30 days)` });

/** `POST /api/auth-keys` (auth: `auth.keys.create`). */
export const createAuthKeySchema = z.strictObject({
  name: keyNameField,
  /** ISO 8601 time; null or absent: never expires */
  expiresAt: isoDateTime('expiresAt').nullable().optional(),
  rateLimitPerMinute: rateLimitField.optional(),
  allowedModels: allowedModelsField.optional(),
});
export type CreateAuthKeyInput = z.infer<typeof createAuthKeySchema>;

/** `PATCH /api/auth-keys/:id` (auth: `auth.keys.update`, with the id). */
export const updateAuthKeySchema = z.strictObject({
  name: keyNameField.optional(),
  isActive: z.boolean({ error: 'isActive must be true or false' }).optional(),
  /** a new expiry, or null: never */
  expiresAt: isoDateTime('expiresAt').nullable().optional(),
  rateLimitPerMinute: rateLimitField.optional(),
  allowedModels: allowedModelsField.optional(),
});
export type UpdateAuthKeyInput = z.infer<typeof updateAuthKeySchema>;

/** `POST /api/auth-keys/:id/rotate` (auth: `auth.keys.rotate`, with the id). */
export const rotateAuthKeySchema = z.strictObject({
  /** keep the old secret valid this many seconds (0 or absent: it stops at once) */
  graceSeconds: graceSecondsField.optional(),
});
export type RotateAuthKeyInput = z.infer<typeof rotateAuthKeySchema>;

/** `GET /api/auth-keys?userId=` (admins only: another user's keys). */
export const listAuthKeysQuerySchema = z.strictObject({ userId: idField('userId').optional() });
