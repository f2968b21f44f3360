import type { NextFunction, Request, Response } from 'express';

/** The JSON body limit of the admin API. */
export const BODY_LIMIT = '1mb';

/**
 * Errors of the JSON body parser, answered as the API answers everything else: 413 for a body over BODY_LIMIT,
 * 400 for a body that is not valid JSON, 415 for an encoding it cannot read. Anything else goes on.
 */
export function bodyErrors(err: unknown, _req: Request, res: Response, next: NextFunction): void {
  const type = (err as { type?: unknown } | null)?.type;
  if (type === 'entity.too.large') {
    res.status(413).json({ statusCode: 413, message: `request body is larger than ${BODY_LIMIT}` });
  } else if (type === 'entity.parse.failed') {
    res.status(400).json({ statusCode: 400, message: 'request body is not valid JSON' });
  } else if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
    res.status(415).json({ statusCode: 415, message: 'unsupported request body encoding' });
  } else {
    next(err);
  }
}
