import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { APP_CONFIG, redisOptions, type AppConfig } from '@gg/config';
import { ErrorCode } from '@gg/contracts';
import { DomainError } from '@gg/nest-common';
import { Redis } from 'ioredis';

/** Failed logins allowed per username from one client IP, and per client IP over all usernames, per window. */
export const LOGIN_MAX_FAILURES_PER_USER_IP = 10;
export const LOGIN_MAX_FAILURES_PER_IP = 50;
export const LOGIN_WINDOW_MS = 15 * 60 * 1000;

/** INCR, starting the window on the first failure. KEYS: counter. ARGV: window ms. */
const FAIL = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
`;

type ThrottleRedis = Redis & { ggLoginFail(key: string, windowMs: number): Promise<number> };

/**
 * Login throttling shared by every process through Redis (`${ns}:auth:login:*`): after too many failures for a
 * username from one IP, or from one IP overall, logins are refused with TOO_MANY_REQUESTS and `retryAfter` until
 * the window (started by the first failure) ends. A success clears the username+IP counter. Usernames are
 * hashed in the key names. Should Redis fail, logins are let through (bcrypt still stands) and a warning logged.
 */
@Injectable()
export class LoginThrottleService implements OnModuleDestroy {
  private readonly logger = new Logger(LoginThrottleService.name);
  private readonly redis: ThrottleRedis;
  private readonly prefix: string;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.prefix = `${config.redisNamespace}:auth:login`;
    this.redis = new Redis({ ...redisOptions(config.redisUrl), maxRetriesPerRequest: 1 }) as ThrottleRedis;
    this.redis.on('error', (e) => this.logger.warn({ err: e.message }, 'login throttle: redis connection error'));
    this.redis.defineCommand('ggLoginFail', { numberOfKeys: 1, lua: FAIL });
  }

  /** Throws TOO_MANY_REQUESTS (with retryAfter, seconds) while this username+IP or this IP is blocked. */
  async assertAllowed(username: string, ip: string | undefined): Promise<void> {
    const [userKey, ipKey] = this.keys(username, ip);
    let answers: [Error | null, unknown][] | null;
    try {
      answers = await this.redis.multi().get(userKey).pttl(userKey).get(ipKey).pttl(ipKey).exec();
    } catch (e) {
      this.logger.warn({ err: (e as Error).message }, 'login throttle unavailable: letting the attempt through');
      return;
    }
    const [userCount, userTtl, ipCount, ipTtl] = (answers ?? []).map(([, v]) => Number(v ?? 0));
    const waits: number[] = [];
    if (userCount >= LOGIN_MAX_FAILURES_PER_USER_IP) waits.push(userTtl);
    if (ipCount >= LOGIN_MAX_FAILURES_PER_IP) waits.push(ipTtl);
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
      await Promise.all([this.redis.ggLoginFail(userKey, LOGIN_WINDOW_MS), this.redis.ggLoginFail(ipKey, LOGIN_WINDOW_MS)]);
    } catch (e) {
      this.logger.warn({ err: (e as Error).message }, 'login throttle: could not count a failure');
    }
  }

  async recordSuccess(username: string, ip: string | undefined): Promise<void> {
    try {
      await this.redis.del(this.keys(username, ip)[0]);
    } catch (e) {
      this.logger.warn({ err: (e as Error).message }, 'login throttle: could not reset a counter');
    }
  }

  async onModuleDestroy(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private keys(username: string, ip: string | undefined): [string, string] {
    const client = ip && ip.length > 0 ? ip : 'unknown';
    const user = createHash('sha256').update(username).update('\0').update(client).digest('hex').slice(0, 32);
    return [`${this.prefix}:user-ip:${user}`, `${this.prefix}:ip:${client}`];
  }
}
