import type { ClientProxy, CustomStrategy, RedisOptions } from '@nestjs/microservices';
import { EventPattern, MessagePattern } from '@nestjs/microservices';
import { getConfig, redisOptions, type AppConfig } from '@gg/config';
import { nsPattern } from '@gg/contracts';
import { SealedClientRedis, SealedServerRedis } from './sealed-redis';
import { TransportSeal } from './transport-seal';

type RedisTransportOptions = NonNullable<RedisOptions['options']>;

/**
 * What `createMicroservice`/`connectMicroservice` (the `strategy`) and `ClientProxyFactory.create` (the
 * `customClass`) both accept: the NestJS Redis transport with every message sealed (AES-256-GCM, TRANSPORT_KEY).
 */
export interface SealedRedisTransport extends CustomStrategy {
  customClass: new (options: RedisTransportOptions) => ClientProxy<never, string> | SealedClientRedis;
  options: RedisTransportOptions;
}

/**
 * A seal of TRANSPORT_KEY for one receiver. Each client and server has its own: its replay memory must not drop
 * a message another receiver of the same process (subscribed to the same channel) has already opened.
 */
export function transportSeal(config: Pick<AppConfig, 'transportKey'> = getConfig()): TransportSeal {
  return new TransportSeal(config.transportKey);
}

/**
 * Options of the NestJS Redis transport, from REDIS_URL (user, password, `rediss://`), sealed with TRANSPORT_KEY.
 * Reconnects forever: a Redis restart is survived.
 */
export function redisTransport(
  config: Pick<AppConfig, 'redisUrl' | 'transportKey'> = getConfig(),
): SealedRedisTransport {
  const options: RedisTransportOptions = {
    ...redisOptions(config.redisUrl),
    retryAttempts: Number.MAX_SAFE_INTEGER,
    retryDelay: 500,
    maxRetriesPerRequest: null,
    lazyConnect: false,
  };
  let server: SealedServerRedis | undefined;
  return {
    options,
    customClass: class extends SealedClientRedis {
      constructor(o: RedisTransportOptions) {
        super(o, transportSeal(config));
      }
    },
    // built when a server is asked for (createMicroservice, connectMicroservice), never for a client
    get strategy(): SealedServerRedis {
      return (server ??= new SealedServerRedis(options, transportSeal(config)));
    },
  };
}

/** `@MessagePattern` with the name put under REDIS_NAMESPACE. */
export const NsMessagePattern = (name: string): MethodDecorator =>
  MessagePattern(nsPattern(getConfig().redisNamespace, name));

/** `@EventPattern` with the name put under REDIS_NAMESPACE. */
export const NsEventPattern = (name: string): MethodDecorator =>
  EventPattern(nsPattern(getConfig().redisNamespace, name));
