import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, redisOptions, type AppConfig } from '@gg/config';
import { AuthPattern, ErrorCode } from '@gg/contracts';
import { DomainError, ProbesService, RpcClient } from '@gg/nest-common';
import Redis from 'ioredis';

/** Below the 1 s that ProbesService grants each check. */
const AUTH_PING_TIMEOUT_MS = 900;

/** `/readyz`: Redis answers PING, and auth answers an RPC (any answer but silence). */
@Injectable()
export class ReadinessChecks implements OnModuleInit, OnApplicationShutdown {
  private readonly redis: Redis;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly probes: ProbesService,
    private readonly rpc: RpcClient,
  ) {
    this.redis = new Redis({
      ...redisOptions(config.redisUrl),
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    });
    this.redis.on('error', () => undefined); // reported by the probe, not as an unhandled event
  }

  onModuleInit(): void {
    this.redis.connect().catch(() => undefined);
    this.probes.register('redis', async () => (await this.redis.ping()) === 'PONG');
    this.probes.register('auth', () => this.authAnswers());
  }

  private async authAnswers(): Promise<boolean> {
    try {
      await this.rpc.send<unknown>(AuthPattern.Ping, {}, AUTH_PING_TIMEOUT_MS);
      return true;
    } catch (e) {
      return !(e instanceof DomainError && e.code === ErrorCode.Unavailable);
    }
  }

  onApplicationShutdown(): void {
    this.redis.disconnect();
  }
}
