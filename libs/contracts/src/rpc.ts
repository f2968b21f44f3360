/** Payloads of the RPCs between admin (and gateway) and the auth and key-pool services. */
import type { LogQuery, Role, StatsWindow } from './types';

/** Who is calling, as established by the admin's JWT guard; auth enforces object-level access with it. */
export interface Caller {
  userId: string;
  role: Role;
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
}

export interface CallerRequest {
  caller: Caller;
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

export interface CreateKeyRequest extends CallerRequest {
  name: string;
  expiresAt?: string | null;
}

export interface UpdateKeyRequest extends CallerRequest {
  id: string;
  name?: string;
  isActive?: boolean;
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
