import { EventPattern, MessagePattern, type RedisOptions, Transport } from '@nestjs/microservices';
import { getConfig, redisOptions, type AppConfig } from '@gg/config';
import { nsPattern } from '@gg/contracts';

/** Options of the NestJS Redis transport, from REDIS_URL. Reconnects forever: a Redis restart is survived. */
export function redisTransport(config: AppConfig = getConfig()): RedisOptions {
  return {
    transport: Transport.REDIS,
    options: {
      ...redisOptions(config.redisUrl),
      retryAttempts: Number.MAX_SAFE_INTEGER,
      retryDelay: 500,
      maxRetriesPerRequest: null,
      lazyConnect: false,
    },
  };
}

/** `@MessagePattern` with the name put under REDIS_NAMESPACE. */
export const NsMessagePattern = (name: string): MethodDecorator =>
  MessagePattern(nsPattern(getConfig().redisNamespace, name));

/** `@EventPattern` with the name put under REDIS_NAMESPACE. */
export const NsEventPattern = (name: string): MethodDecorator =>
  EventPattern(nsPattern(getConfig().redisNamespace, name));
