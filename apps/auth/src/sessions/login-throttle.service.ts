import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { APP_CONFIG, redisOptions, type AppConfig } from '@gg/config';
import { ErrorCode } from '@gg/contracts';
import { DomainError } from '@gg/nest-common';
import { Redis } from 'ioredis';
import { RateLimiterRedis, type RateLimiterRes } from 'rate-limiter-flexible';

/** Failed logins allowed per username from one client IP, and per client IP over all usernames, per window. */
export const LOGIN_MAX_FAILURES_PER_USER_IP = 10;
export const LOGIN_MAX_FAILURES_PER_IP = 50;
export const LOGIN_WINDOW_MS = 15 * 60 * 1000;

/**
 * Login throttling shared by every process through Redis (`rate-limiter-flexible`, fixed windows under
 * `${ns}:auth:login:*`): after too many failures for a username from one IP, or from one IP overall, logins are
 * refused with TOO_MANY_REQUESTS and `retryAfter` until the window (started by the first failure) ends. A success
 * clears the username+IP counter. Usernames are hashed in the key names. Should Redis fail, logins are let through
 * (bcrypt still stands) and a warning logged.
 */
@Injectable()
export class LoginThrottleService implements OnModuleDestroy {
  private readonly logger = new Logger(LoginThrottleService.name);
  private readonly redis: Redis;
  private readonly perUserIp: RateLimiterRedis;
  private readonly perIp: RateLimiterRedis;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    const prefix = `${config.redisNamespace}:auth:login`;
    this.redis = new Redis({ ...redisOptions(config.redisUrl), maxRetriesPerRequest: 1 });
    this.redis.on('error', (e) => this.logger.warn({ err: e.message }, 'login throttle: redis connection error'));
    const limiter = (points: number, keyPrefix: string): RateLimiterRedis =>
      new RateLimiterRedis({ storeClient: this.redis, points, duration: LOGIN_WINDOW_MS / 1000, keyPrefix });
    this.perUserIp = limiter(LOGIN_MAX_FAILURES_PER_USER_IP, `${prefix}:user-ip`);
    this.perIp = limiter(LOGIN_MAX_FAILURES_PER_IP, `${prefix}:ip`);
  }

  /** Throws TOO_MANY_REQUESTS (with retryAfter, seconds) while this username+IP or this IP is blocked. */
  async assertAllowed(username: string, ip: string | undefined): Promise<void> {
    const [userKey, ipKey] = this.keys(username, ip);
    let user: RateLimiterRes | null, all: RateLimiterRes | null;
    try {
      [user, all] = await Promise.all([this.perUserIp.get(userKey), this.perIp.get(ipKey)]);
    } catch (e) {
      this.logger.warn({ err: errorMessage(e) }, 'login throttle unavailable: letting the attempt through');
      return;
    }
    const waits: number[] = [];
    if (user && user.consumedPoints >= LOGIN_MAX_FAILURES_PER_USER_IP) waits.push(user.msBeforeNext);
    if (all && all.consumedPoints >= LOGIN_MAX_FAILURES_PER_IP) waits.push(all.msBeforeNext);
    if (waits.length === 0) return;
    const retryAfter = Math.max(1, Math.ceil(Math.max(...waits) / 1000));
    this.logger.warn({ ip, retryAfter }, 'login refused: too many failed attempts');
    throw new DomainError(
      ErrorCode.TooManyRequests,
      `too many failed logins; try again in ${retryAfter} s`,
      retryAfter,
    );
  }

  async recordFailure(username: string, ip: string | undefined): Promise<void> {
    const [userKey, ipKey] = this.keys(username, ip);
    try {
      await Promise.all([this.perUserIp.penalty(userKey), this.perIp.penalty(ipKey)]);
    } catch (e) {
      this.logger.warn({ err: errorMessage(e) }, 'login throttle: could not count a failure');
    }
  }

  async recordSuccess(username: string, ip: string | undefined): Promise<void> {
    try {
      await this.perUserIp.delete(this.keys(username, ip)[0]);
    } catch (e) {
      this.logger.warn({ err: errorMessage(e) }, 'login throttle: could not reset a counter');
    }
  }

  async onModuleDestroy(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private keys(username: string, ip: string | undefined): [string, string] {
    const client = ip && ip.length > 0 ? ip : 'unknown';
    const user = createHash('sha256').update(username).update('\0').update(client).digest('hex').slice(0, 32);
    return [user, client];
  }
}

const errorMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e));
