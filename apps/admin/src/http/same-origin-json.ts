import type { NextFunction, Request, Response } from 'express';
import { isApiPath } from './server-paths';

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const JSON_TYPE = /^application\/([\w.-]+\+)?json\s*(;|$)/i;
/** What `Sec-Fetch-Site` may say on a state-changing request: from this origin, or typed by the user. */
const ALLOWED_SITES = new Set(['same-origin', 'none']);

function refuse(res: Response, status: 403 | 415, message: string): void {
  res.status(status).json({ statusCode: status, message });
}

function originOf(url: string): string | null {
  try {
    return new URL(url).origin.toLowerCase();
  } catch {
    return null;
  }
}

function hasBody(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

/**
 * CSRF and content types on every state-changing `/api` request (POST, PUT, PATCH, DELETE), before any body is
 * read: a request from another site is refused with 403 (`Sec-Fetch-Site` other than same-origin/none, or an
 * `Origin` that is neither this request's own origin, as `trust proxy` sees it, nor PUBLIC_BASE_URL's); a body
 * that is not JSON (a form, multipart, text/plain: what a page on another site can send without a preflight) is
 * refused with 415.
 */
export function sameOriginJsonOnly(publicBaseUrl: string | null) {
  const configured = publicBaseUrl ? originOf(publicBaseUrl) : null;
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!STATE_CHANGING.has(req.method) || !isApiPath(req.path)) return next();
    const site = req.headers['sec-fetch-site'];
    if (typeof site === 'string' && !ALLOWED_SITES.has(site.toLowerCase())) {
      return refuse(res, 403, 'cross-site request refused');
    }
    const origin = req.headers.origin;
    if (origin !== undefined) {
      const own = originOf(`${req.protocol}://${req.get('host') ?? ''}`);
      const given = origin.toLowerCase();
      if (given !== own && given !== configured) return refuse(res, 403, 'cross-origin request refused');
    }
    const type = req.headers['content-type'];
    if (type !== undefined ? !JSON_TYPE.test(type) : hasBody(req)) {
      return refuse(res, 415, 'the admin API accepts request bodies of Content-Type application/json only');
    }
    next();
  };
}
