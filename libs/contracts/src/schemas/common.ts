/**
 * The constants and field rules every app validates with: the admin (HTTP), auth and key-pool (RPC) and the SPA's
 * forms. Change a rule here and every layer changes with it.
 */
import { z } from 'zod';
import type { Role, StatsWindow } from '../types';

export const ROLES = ['admin', 'user'] as const satisfies readonly Role[];
export const STATS_WINDOWS = ['1h', '24h', '7d'] as const satisfies readonly StatsWindow[];
/** the window `/api/stats` answers for when none is asked for */
export const DEFAULT_STATS_WINDOW: StatsWindow = '24h';
/** 3..64 characters: letters, digits, `_`, `.`, `@`, `-`, starting with a letter or digit */
export const USERNAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.@-]{2,63}$/;
/** `:id` of a user, a user key or a pool key; the log filter's authKeyId */
export const ID_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 1024;
/** the longest username a login may send (longer ones cannot exist) */
export const LOGIN_USERNAME_MAX = 128;
/** the largest page of the request log */
export const LOGS_PAGE_MAX = 500;
/** `iss` and `aud` of the admin's access tokens (auth signs, admin verifies) */
export const JWT_ISSUER = 'gemini-gateway';
export const JWT_AUDIENCE = 'gemini-gateway-admin';

export const ISO_MESSAGE = 'must be an ISO 8601 date-time, e.g. 2030-01-01T00:00:00Z';

/** An ISO 8601 date-time (with an offset or `Z`), or a plain date. */
export function isoDateTime(field: string): z.ZodType<string> {
  const error = `${field} ${ISO_MESSAGE}`;
  return z.union([z.iso.datetime({ offset: true }), z.iso.date()], { error });
}

/** A query-string number: `"10"` → 10 (RPC callers send numbers already); anything else fails `inner`. */
export function queryNumber<T extends z.ZodType>(inner: T) {
  return z.preprocess((v) => (typeof v === 'string' && v.trim() !== '' ? Number(v) : v), inner);
}

export function intInRange(
  field: string,
  min: number,
  max: number,
  error = `${field} must be an integer from ${min} to ${max}`,
): z.ZodNumber {
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

export const idField = (field = 'id'): z.ZodString =>
  z.string({ error: `${field} must be 1-64 characters of letters, digits, "_", ".", ":" or "-"` }).regex(ID_PATTERN, {
    error: `${field} must be 1-64 characters of letters, digits, "_", ".", ":" or "-"`,
  });

export const roleField = z.enum(ROLES, { error: 'role must be "admin" or "user"' });

export const idParamSchema = z.strictObject({ id: idField() });
export type IdParam = z.infer<typeof idParamSchema>;
