import { type AppConfig, redisOptions } from '@gg/config';
import type { ConnectionOptions } from 'bullmq';

/** Every queue lives under `${REDIS_NAMESPACE}:bull`. */
export function bullPrefix(config: AppConfig): string {
  return `${config.redisNamespace}:bull`;
}

/** Options for a connection of its own (BullMQ opens and closes it); workers need `maxRetriesPerRequest: null`. */
export function bullConnection(config: AppConfig): ConnectionOptions {
  return { ...redisOptions(config.redisUrl), maxRetriesPerRequest: null };
}
