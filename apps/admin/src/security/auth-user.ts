import { JWT_AUDIENCE, JWT_ISSUER, ROLES, type Role } from '@gg/contracts';
import type { ProvenCaller } from '@gg/nest-common';

/** `iss` and `aud` of the admin access tokens auth signs (HS256): one definition in `@gg/contracts`. */
export const ACCESS_TOKEN_ISSUER = JWT_ISSUER;
export const ACCESS_TOKEN_AUDIENCE = JWT_AUDIENCE;
/** Clock skew allowed between auth (which signs) and the admin (which checks `iat`/`exp`). */
export const CLOCK_SKEW_SECONDS = 30;

/** The claims of an access token, as auth signs them (`iat`, `exp`, `iss`, `aud` besides). */
export interface AccessTokenClaims {
  sub: string;
  username: string;
  role: Role;
  /** token version of the user (bumped by auth on password change, role change or deactivation) */
  tv: number;
  /** the session: logout and refresh-token reuse end it */
  sid: string;
  iat: number;
  exp: number;
}

/** `request.user` once the JWT guard has passed: who, in which session. */
export interface AuthUser extends ProvenCaller {
  username: string;
}

/**
 * The request user from verified claims, or null when the claims are not the shape auth signs: `sub`, `role`,
 * `tv`, `sid`, and a numeric `iat` and `exp` that are no further apart than the access token lifetime (a token
 * without `exp` or with a lifetime of its own is refused even when its signature is right).
 */
export function authUserFromClaims(claims: unknown, maxLifetimeSeconds: number): AuthUser | null {
  if (typeof claims !== 'object' || claims === null) return null;
  const c = claims as Partial<Record<keyof AccessTokenClaims, unknown>>;
  if (typeof c.sub !== 'string' || c.sub.length === 0 || c.sub.length > 64) return null;
  if (typeof c.username !== 'string') return null;
  if (typeof c.role !== 'string' || !(ROLES as readonly string[]).includes(c.role)) return null;
  if (typeof c.tv !== 'number' || !Number.isSafeInteger(c.tv) || c.tv < 0) return null;
  if (typeof c.sid !== 'string' || c.sid.length === 0 || c.sid.length > 64) return null;
  if (typeof c.iat !== 'number' || typeof c.exp !== 'number' || !Number.isFinite(c.iat) || !Number.isFinite(c.exp))
    return null;
  if (c.exp <= c.iat || c.exp - c.iat > maxLifetimeSeconds + CLOCK_SKEW_SECONDS) return null;
  return { userId: c.sub, role: c.role as Role, tokenVersion: c.tv, sessionId: c.sid, username: c.username };
}
