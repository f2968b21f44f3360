import type { Caller, Role } from '@gg/contracts';

/** `iss` and `aud` of the admin access tokens auth signs (HS256). */
export const ACCESS_TOKEN_ISSUER = 'gemini-gateway';
export const ACCESS_TOKEN_AUDIENCE = 'gemini-gateway-admin';

/** The claims of an access token, as auth signs them. */
export interface AccessTokenClaims {
  sub: string;
  username: string;
  role: Role;
  /** token version of the user (bumped by auth on password change or deactivation) */
  tv: number;
}

/** `request.user` once the JWT guard has passed. */
export interface AuthUser extends Caller {
  username: string;
}

const ROLES: readonly Role[] = ['admin', 'user'];

/** The request user from verified claims, or null when the claims are not the shape auth signs. */
export function authUserFromClaims(claims: unknown): AuthUser | null {
  if (typeof claims !== 'object' || claims === null) return null;
  const c = claims as Partial<Record<keyof AccessTokenClaims, unknown>>;
  if (typeof c.sub !== 'string' || c.sub.length === 0 || c.sub.length > 64) return null;
  if (typeof c.username !== 'string') return null;
  if (typeof c.role !== 'string' || !ROLES.includes(c.role as Role)) return null;
  if (typeof c.tv !== 'number' || !Number.isSafeInteger(c.tv) || c.tv < 0) return null;
  return { userId: c.sub, role: c.role as Role, tokenVersion: c.tv, username: c.username };
}
