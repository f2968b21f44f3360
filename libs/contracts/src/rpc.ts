/** Payloads of the RPCs between admin (and gateway) and the auth and key-pool services. */
import type { LogQuery, Role, StatsWindow } from './types';

/**
 * Who is calling: auth derives it from the caller proof of the request (never from a `caller` object sent in a
 * payload) and enforces object-level access with it.
 */
export interface Caller {
  userId: string;
  role: Role;
  /** the `tv` claim of the access token: auth refuses the caller once the user's token version moved on
   * (password change, deactivation, role change) */
  tokenVersion: number;
}

export interface LoginRequest {
  username: string;
  password: string;
  ip?: string;
}

/** What auth answers to login and refresh; the admin turns it into the API answer and the refresh cookie. */
export interface SessionTokens {
  accessToken: string;
  expiresIn: number;
  refreshToken: string;
  refreshExpiresIn: number;
}

export interface RefreshRequest {
  refreshToken: string;
  ip?: string;
}

export interface LogoutRequest {
  refreshToken?: string;
  /** a caller proof: ends the session it names (logout with only the access token) */
  proof?: string;
}

/**
 * Base of every RPC made for a logged-in user (to auth; and the admin-only key-pool RPCs): `proof` is a caller
 * proof the admin signs for this one message after verifying the user's access token (`signCallerProof` in
 * @gg/nest-common: user, role, token version, session, pattern, payload hash, 30 s, single use). The receiver
 * verifies it and derives the caller from it.
 */
export interface CallerRequest {
  proof: string;
}

export interface ChangePasswordRequest extends CallerRequest {
  currentPassword: string;
  newPassword: string;
}

export interface CreateUserRequest extends CallerRequest {
  username: string;
  password: string;
  role: Role;
}

export interface UpdateUserRequest extends CallerRequest {
  id: string;
  role?: Role;
  password?: string;
  isActive?: boolean;
}

export interface IdRequest extends CallerRequest {
  id: string;
}

export interface ListKeysRequest extends CallerRequest {
  /** admins only: another user's keys */
  userId?: string;
}

/** Optional limits of a user key; `null` removes a limit. */
export interface KeyLimits {
  /** 1..1,000,000 requests per minute, or null: no limit */
  rateLimitPerMinute?: number | null;
  /** 1..100 model ids (`gemini-2.5-flash`; a `models/` prefix is dropped), or null: any model */
  allowedModels?: string[] | null;
}

export interface CreateKeyRequest extends CallerRequest, KeyLimits {
  name: string;
  expiresAt?: string | null;
}

export interface UpdateKeyRequest extends CallerRequest, KeyLimits {
  id: string;
  name?: string;
  isActive?: boolean;
  /** a new expiry (future ISO time) or null: never */
  expiresAt?: string | null;
}

export interface RotateKeyRequest extends CallerRequest {
  id: string;
  /** keep the old secret valid for this many seconds (0: revoke at once) */
  graceSeconds?: number;
}

export interface LogsQueryRequest extends CallerRequest {
  query: LogQuery;
}

export interface StatsRequest extends CallerRequest {
  window: StatsWindow;
}

/* key-pool */

export interface AddPoolKeysRequest {
  keys: string | string[];
}

export interface PoolKeyIdRequest {
  id: string;
}
