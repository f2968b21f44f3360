import type { z } from 'zod';
import type { logsQueryRequestSchema, statsRequestSchema } from '@gg/contracts';

/** `auth.logs.query` and `auth.stats`, validated by the shared schemas of `@gg/contracts`. */
export type LogsQueryDto = z.output<typeof logsQueryRequestSchema>;
export type StatsDto = z.output<typeof statsRequestSchema>;
