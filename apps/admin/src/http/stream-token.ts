import type { NextFunction, Request, Response } from 'express';

const STREAM_PATH = /^\/api\/(service-)?logs\/stream\/?$/i;
const PARAM = 'access_token';

/**
 * EventSource cannot send headers, so `GET /api/logs/stream?access_token=` (and `/api/service-logs/stream`) is accepted: the token is moved into
 * `Authorization: Bearer` (on that route only) and taken out of the URL on every route, so that no log line
 * ever holds it. Runs before the request logger.
 */
export function streamTokenFromQuery(req: Request, _res: Response, next: NextFunction): void {
  const q = req.url.indexOf('?');
  if (q < 0 || !req.url.includes(PARAM, q)) return next();
  const params = new URLSearchParams(req.url.slice(q + 1));
  const token = params.get(PARAM);
  if (token === null) return next();
  params.delete(PARAM);
  const path = req.url.slice(0, q);
  const rest = params.toString();
  req.url = rest ? `${path}?${rest}` : path;
  req.originalUrl = req.url;
  if (req.method === 'GET' && STREAM_PATH.test(path) && !req.headers.authorization && token.length > 0) {
    req.headers.authorization = `Bearer ${token}`;
  }
  next();
}
