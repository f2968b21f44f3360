import type { NextFunction, Request, Response } from 'express';
import { isApiPath } from './server-paths';

/** The SPA's policy: everything from this origin; inline scripts only by hash (SvelteKit's bootstrap). */
export function spaCsp(scriptHashes: readonly string[] = []): string {
  return [
    "default-src 'self'",
    `script-src 'self'${scriptHashes.map((h) => ` '${h}'`).join('')}`,
    // Svelte transitions insert <style> elements at run time.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

const API_CSP = "default-src 'none'; frame-ancestors 'none'";

/** Headers on every answer; API answers are never cached (they carry tokens and secrets shown once). */
export function securityHeaders(req: Request, res: Response, next: NextFunction): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  if (isApiPath(req.path)) {
    res.setHeader('Content-Security-Policy', API_CSP);
    res.setHeader('Cache-Control', 'no-store');
  } else {
    res.setHeader('Content-Security-Policy', spaCsp());
  }
  next();
}
