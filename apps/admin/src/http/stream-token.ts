import type { NextFunction, Request, Response } from 'express';

const STREAM_PATH = /^\/api\/(service-)?logs\/stream\/?$/i;
/** Never believed, always taken out of the URL (older SPAs sent the access token this way). */
const ACCESS_TOKEN = 'access_token';
const TICKET = 'ticket';

/** The `?ticket=` of a stream request, once taken out of its URL (read by JwtAuthGuard). */
export const STREAM_TICKET = Symbol('gg.streamTicket');
export type WithStreamTicket = Request & { [STREAM_TICKET]?: string };

/**
 * EventSource cannot send headers: the live streams (`GET /api/logs/stream`, `/api/service-logs/stream`)
 * authenticate with `?ticket=` (single use, from `POST /api/streams/ticket`). This takes `ticket` and
 * `access_token` out of every URL before anything logs it, keeps the ticket of a stream request for the guard,
 * and drops an access token: a token in a URL is never accepted. Runs before the request logger.
 */
export function streamTicketFromQuery(req: Request, _res: Response, next: NextFunction): void {
  const q = req.url.indexOf('?');
  if (q < 0 || !(req.url.includes(ACCESS_TOKEN, q) || req.url.includes(TICKET, q))) return next();
  const params = new URLSearchParams(req.url.slice(q + 1));
  const ticket = params.get(TICKET);
  if (ticket === null && !params.has(ACCESS_TOKEN)) return next();
  params.delete(TICKET);
  params.delete(ACCESS_TOKEN);
  const path = req.url.slice(0, q);
  const rest = params.toString();
  req.url = rest ? `${path}?${rest}` : path;
  req.originalUrl = req.url;
  if (req.method === 'GET' && STREAM_PATH.test(path) && ticket) (req as WithStreamTicket)[STREAM_TICKET] = ticket;
  next();
}
