import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, redisOptions, type AppConfig } from '@gg/config';
import Redis from 'ioredis';

/**
 * The admin's own Redis connection (stream tickets), failing fast instead of queueing while Redis is down; its
 * state also tells the error filter that an RPC failed because Redis (the transport) is down: 503, not 500.
 */
@Injectable()
export class RedisLink implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(RedisLink.name);
  readonly redis: Redis;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.redis = new Redis({
      ...redisOptions(config.redisUrl),
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    });
    this.redis.on('error', (e: Error) => this.logger.debug({ err: e.message }, 'redis connection error'));
  }

  onModuleInit(): void {
    this.redis.connect().catch(() => undefined);
  }

  /** False while the connection to Redis is down (or not yet up). */
  get up(): boolean {
    return this.redis.status === 'ready';
  }

  onApplicationShutdown(): void {
    this.redis.disconnect();
  }
}
