import type { CookieOptions, Request, Response } from 'express';

/** The refresh token lives only in this cookie: HttpOnly, SameSite=Strict, sent only to /api/auth. */
export const REFRESH_COOKIE = 'gg_refresh';
const COOKIE_PATH = '/api/auth';
const MAX_TOKEN_LENGTH = 4096;

/**
 * `Secure` when the request came over https (`req.secure` honours X-Forwarded-Proto from a proxy listed in
 * TRUSTED_PROXIES) or whenever the public URL (PUBLIC_BASE_URL) is https.
 */
export function cookieIsSecure(req: Request, publicBaseUrl: string | null): boolean {
  return req.secure || (publicBaseUrl?.toLowerCase().startsWith('https:') ?? false);
}

function options(secure: boolean): CookieOptions {
  return { httpOnly: true, sameSite: 'strict', path: COOKIE_PATH, secure };
}

export function setRefreshCookie(res: Response, secure: boolean, token: string, maxAgeSeconds: number): void {
  res.cookie(REFRESH_COOKIE, token, { ...options(secure), maxAge: maxAgeSeconds * 1000 });
}

export function clearRefreshCookie(res: Response, secure: boolean): void {
  res.clearCookie(REFRESH_COOKIE, options(secure));
}

/** The refresh token the browser sent, or undefined when there is none or it cannot be one. */
export function readRefreshCookie(req: Request): string | undefined {
  const value: unknown = (req.cookies as Record<string, unknown> | undefined)?.[REFRESH_COOKIE];
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_TOKEN_LENGTH ? value : undefined;
}
