import { z } from 'zod';
import { createAuthKeySchema, rotateAuthKeySchema, updateAuthKeySchema } from './auth-keys';
import { idField, roleField } from './common';
import { logQuerySchema, statsWindowField } from './logs';
import { addPoolKeysSchema } from './pool-keys';
import { changePasswordSchema, createUserSchema, loginSchema, updateUserSchema } from './users';

/** `caller`, as auth's CallerGuard derives it from the proof (any `caller` sent is replaced). */
export const callerSchema = z.strictObject({
  userId: z.string().min(1).max(64),
  role: roleField,
  tokenVersion: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
});

/** The envelope of an RPC made for a logged-in user: the caller proof and the caller derived from it. */
export const callerEnvelope = { proof: z.string().max(2048), caller: callerSchema };

/** An RPC request: `payload` plus the caller envelope, unknown fields refused like the HTTP side. */
export function callerRequest<S extends z.ZodRawShape>(payload: z.ZodObject<S>) {
  return payload.extend(callerEnvelope).strict();
}

/* The RPC payloads: the HTTP schema of the same payload, with what the admin adds to it. */

/** `auth.logs.query` */
export const logsQueryRequestSchema = callerRequest(z.object({ query: logQuerySchema }));
/** `auth.stats` */
export const statsRequestSchema = callerRequest(z.object({ window: statsWindowField }));
/** `auth.keys.create` */
export const createKeyRequestSchema = callerRequest(createAuthKeySchema);
/** `auth.keys.update` */
export const updateKeyRequestSchema = callerRequest(updateAuthKeySchema.extend({ id: idField() }));
/** `auth.keys.rotate` */
export const rotateKeyRequestSchema = callerRequest(rotateAuthKeySchema.extend({ id: idField() }));
/** `auth.users.create` */
export const createUserRequestSchema = callerRequest(createUserSchema);
/** `auth.users.update` */
export const updateUserRequestSchema = callerRequest(updateUserSchema.extend({ id: idField() }));
/** `auth.me.password` */
export const changePasswordRequestSchema = callerRequest(changePasswordSchema);
/** `auth.login`: the admin adds the client's address */
export const loginRequestSchema = loginSchema.extend({ ip: z.string().max(64).optional() });
/** `pool.keys.add` (the caller proof is checked and removed by key-pool's guard first) */
export const addPoolKeysRequestSchema = addPoolKeysSchema;
