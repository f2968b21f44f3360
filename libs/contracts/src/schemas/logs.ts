import { z } from 'zod';
import {
  DEFAULT_STATS_WINDOW,
  idField,
  intInRange,
  isoDateTime,
  LOGS_PAGE_MAX,
  queryNumber,
  STATS_WINDOWS,
} from './common';

const STATUS_MESSAGE = 'status must be an HTTP status code';

/** `GET /api/logs` and `auth.logs.query`'s `query` (auth adds `userId`, set by the admin from the caller). */
export const logsQuerySchema = z.strictObject({
  limit: queryNumber(intInRange('limit', 1, LOGS_PAGE_MAX)).optional(),
  cursor: z
    .string({ error: 'cursor must be a string' })
    .max(512, { error: 'cursor must be at most 512 characters' })
    .optional(),
  status: queryNumber(intInRange('status', 100, 599, STATUS_MESSAGE)).optional(),
  model: z
    .string({ error: 'model must be a string' })
    .max(200, { error: 'model must be at most 200 characters' })
    .optional(),
  authKeyId: idField('authKeyId').optional(),
  since: isoDateTime('since').optional(),
});
export type LogsQueryInput = z.infer<typeof logsQuerySchema>;

/** What auth accepts: the HTTP query plus the user the admin restricted it to. */
export const logQuerySchema = logsQuerySchema.extend({ userId: idField('userId').optional() });

export const statsWindowField = z.enum(STATS_WINDOWS, { error: `window must be one of ${STATS_WINDOWS.join(', ')}` });

/** `GET /api/stats?window=` (absent: 24h). */
export const statsQuerySchema = z.strictObject({ window: statsWindowField.default(DEFAULT_STATS_WINDOW) });
export type StatsQueryInput = z.infer<typeof statsQuerySchema>;
