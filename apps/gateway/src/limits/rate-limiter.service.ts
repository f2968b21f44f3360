import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, redisOptions, type AppConfig } from '@gg/config';
import { Redis } from 'ioredis';

/** One counter per key and minute; it lives a little past its minute. */
const WINDOW_MS = 60_000;
const COUNTER_TTL_MS = 2 * WINDOW_MS;
/** A Redis that does not answer this fast is treated as down (the request goes through). */
const COMMAND_TIMEOUT_MS = 250;
const WARN_EVERY_MS = 10_000;

/** INCR and, on the first hit of the minute, PEXPIRE, atomically. KEYS: counter. ARGV: ttl ms. */
const HIT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
`;

type LimiterRedis = Redis & { ggRpmHit(key: string, ttlMs: number): Promise<number> };

export interface RateVerdict {
  allowed: boolean;
  /** seconds until the current minute ends (for Retry-After) */
  retryAfter: number;
}

/**
 * Requests per minute per user key, exact across every gateway replica: one Redis counter per key and minute
 * (`${ns}:limits:rpm:<authKeyId>:<minute>`), raised by one script call per request of a limited key only.
 * Keys without a limit never touch Redis. Its own connection, with no offline queue and a short command
 * timeout, so a Redis outage costs no latency.
 */
@Injectable()
export class RateLimiterService implements OnApplicationShutdown {
  private readonly logger = new Logger(RateLimiterService.name);
  private readonly redis: LimiterRedis;
  private readonly prefix: string;
  private lastWarning = 0;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.prefix = `${config.redisNamespace}:limits:rpm:`;
    this.redis = new Redis({
      ...redisOptions(config.redisUrl),
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: COMMAND_TIMEOUT_MS,
    }) as LimiterRedis;
    this.redis.on('error', (e) => this.warn(`rate limiter redis: ${e.message}`));
    this.redis.defineCommand('ggRpmHit', { numberOfKeys: 1, lua: HIT });
  }

  /** Count one request of `keyId` against `limit` per minute. */
  async hit(keyId: string, limit: number, now = Date.now()): Promise<RateVerdict> {
    const minute = Math.floor(now / WINDOW_MS);
    const retryAfter = Math.max(1, Math.ceil(((minute + 1) * WINDOW_MS - now) / 1000));
    try {
      const n = await this.redis.ggRpmHit(`${this.prefix}${keyId}:${minute}`, COUNTER_TTL_MS);
      return { allowed: n <= limit, retryAfter };
    } catch (e) {
      // Fail open, on purpose: a per-key limit is a fairness guard, not a security boundary, and refusing every
      // limited key while Redis is away would turn a Redis hiccup into an outage. The pool's own limits stand.
      this.warn(`rate limit not enforced, redis unavailable: ${(e as Error).message}`);
      return { allowed: true, retryAfter };
    }
  }

  onApplicationShutdown(): void {
    this.redis.disconnect();
  }

  private warn(message: string): void {
    const now = Date.now();
    if (now - this.lastWarning < WARN_EVERY_MS) return;
    this.lastWarning = now;
    this.logger.warn(message);
  }
}
