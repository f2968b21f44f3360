import type { CookieOptions, Request, Response } from 'express';

/** The refresh token lives only in this cookie: HttpOnly, SameSite=Strict, sent only to /api/auth. */
export const REFRESH_COOKIE = 'gg_refresh';
const COOKIE_PATH = '/api/auth';
const MAX_TOKEN_LENGTH = 4096;

function options(req: Request): CookieOptions {
  // `req.secure` honours X-Forwarded-Proto from a trusted proxy ('trust proxy' is set at start).
  return { httpOnly: true, sameSite: 'strict', path: COOKIE_PATH, secure: req.secure };
}

export function setRefreshCookie(req: Request, res: Response, token: string, maxAgeSeconds: number): void {
  res.cookie(REFRESH_COOKIE, token, { ...options(req), maxAge: maxAgeSeconds * 1000 });
}

export function clearRefreshCookie(req: Request, res: Response): void {
  res.clearCookie(REFRESH_COOKIE, options(req));
}

/** The refresh token the browser sent, or undefined when there is none or it cannot be one. */
export function readRefreshCookie(req: Request): string | undefined {
  const value: unknown = (req.cookies as Record<string, unknown> | undefined)?.[REFRESH_COOKIE];
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_TOKEN_LENGTH ? value : undefined;
}
