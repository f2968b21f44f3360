import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, redisOptions, type AppConfig, type RateLimitFailMode } from '@gg/config';
import { Redis } from 'ioredis';
import { GatewayMetrics } from '../http/gateway-metrics';

/** A limit is requests per this period. */
export const PERIOD_MS = 60_000;
/** A Redis that does not answer this fast is treated as unavailable (RATE_LIMIT_FAIL_MODE decides). */
export const COMMAND_TIMEOUT_MS = 250;
const WARN_EVERY_MS = 10_000;

/**
 * GCRA (the generic cell rate algorithm) in one script, on Redis's own clock so every replica agrees.
 * KEYS[1]: the key's theoretical arrival time (µs). ARGV[1]: the limit per minute.
 * A key may send `limit` requests at once, then one every 60 s / limit: a request is admitted when the
 * theoretical arrival time after it is at most one period ahead of now. Returns {1, 0} (admitted) or
 * {0, µs until the next request would be admitted}.
 */
export const GCRA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local period = ${PERIOD_MS * 1000}
local interval = period / tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1]))
if tat == nil or tat < now then tat = now end
local next = tat + interval
if next - now > period then
  return {0, math.ceil(next - period - now)}
end
redis.call('SET', KEYS[1], string.format('%.0f', next), 'PX', math.ceil((next - now) / 1000) + 1000)
return {1, 0}
`;

type LimiterRedis = Redis & { ggGcra(key: string, limit: number): Promise<[number, number]> };

export interface RateVerdict {
  allowed: boolean;
  /** seconds until a request of this key would be admitted (Retry-After) */
  retryAfter: number;
  /** Redis did not answer in time: refused by RATE_LIMIT_FAIL_MODE=closed, or let through by `open` */
  unavailable?: boolean;
}

/**
 * Requests per minute per user key, exact across every gateway replica: one GCRA state per key in Redis
 * (`${ns}:limits:gcra:<authKeyId>`), checked and updated by one script call per request of a limited key.
 * Keys without a limit never touch Redis. Its own connection, with no offline queue and a short command timeout:
 * when Redis cannot answer within COMMAND_TIMEOUT_MS the request is let through and counted in
 * `gateway_rate_limit_unenforced_total` (RATE_LIMIT_FAIL_MODE=open) or refused 503 (`closed`).
 */
@Injectable()
export class RateLimiterService implements OnApplicationShutdown {
  private readonly logger = new Logger(RateLimiterService.name);
  private readonly redis: LimiterRedis;
  private readonly prefix: string;
  private readonly failMode: RateLimitFailMode;
  private lastWarning = 0;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly metrics: GatewayMetrics,
  ) {
    this.prefix = `${config.redisNamespace}:limits:gcra:`;
    this.failMode = config.rateLimitFailMode;
    this.redis = new Redis({
      ...redisOptions(config.redisUrl),
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: COMMAND_TIMEOUT_MS,
    }) as LimiterRedis;
    this.redis.on('error', (e) => this.warn(`rate limiter redis: ${e.message}`));
    this.redis.defineCommand('ggGcra', { numberOfKeys: 1, lua: GCRA });
  }

  /** Count one request of `keyId` against `limit` per minute. */
  async hit(keyId: string, limit: number): Promise<RateVerdict> {
    try {
      const [admitted, waitUs] = await this.redis.ggGcra(this.prefix + keyId, limit);
      return { allowed: admitted === 1, retryAfter: Math.max(1, Math.ceil(waitUs / 1e6)) };
    } catch (e) {
      this.metrics.rateLimitUnenforced.inc({ mode: this.failMode });
      this.warn(
        `per-key rate limit: redis did not answer (${(e as Error).message}); RATE_LIMIT_FAIL_MODE=${this.failMode}`,
      );
      return { allowed: this.failMode === 'open', retryAfter: 1, unavailable: true };
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
