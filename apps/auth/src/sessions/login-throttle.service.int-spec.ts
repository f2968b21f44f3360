import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { AppConfig } from '@gg/config';
import type { DomainError } from '@gg/nest-common';
import { testRedis, testRedisUrl } from '@gg/testing';
import { LoginThrottleService } from './login-throttle.service';

beforeAll(() => Logger.overrideLogger(false));

const ns = `t-throttle-${randomBytes(4).toString('hex')}`;
const redis = testRedis();
const services: LoginThrottleService[] = [];
const throttle = (redisUrl = testRedisUrl()): LoginThrottleService => {
  const s = new LoginThrottleService({ redisUrl, redisNamespace: ns } as AppConfig);
  services.push(s);
  return s;
};
/** 'ok', or the error code and retryAfter. */
const allowed = (s: LoginThrottleService, user: string, ip: string): Promise<string> =>
  s.assertAllowed(user, ip).then(
    () => 'ok',
    (e: DomainError) => `${e.code} ${e.retryAfter}`,
  );

afterAll(async () => {
  await Promise.all(services.map((s) => s.onModuleDestroy()));
  const keys = await redis.keys(`${ns}:*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

describe('LoginThrottleService (rate-limiter-flexible on Redis)', () => {
  it('blocks a username+address after 10 failures for the rest of the 15 min window; a success resets it', async () => {
    const s = throttle();
    for (let i = 0; i < 10; i++) {
      expect(await allowed(s, 'root', '10.0.0.1')).toBe('ok');
      await s.recordFailure('root', '10.0.0.1');
    }
    const [code, retryAfter] = (await allowed(s, 'root', '10.0.0.1')).split(' ');
    expect(code).toBe('TOO_MANY_REQUESTS');
    expect(Number(retryAfter)).toBeGreaterThan(890);
    expect(Number(retryAfter)).toBeLessThanOrEqual(900);
    expect(await allowed(s, 'someone-else', '10.0.0.1')).toBe('ok');
    expect(await allowed(s, 'root', '10.0.0.2')).toBe('ok');
    // the same key layout as before the library: a hashed username+address counter and an address counter
    const userKeys = await redis.keys(`${ns}:auth:login:user-ip:*`);
    expect(userKeys).toHaveLength(1);
    expect(userKeys[0]).toMatch(new RegExp(`^${ns}:auth:login:user-ip:[0-9a-f]{32}$`));
    expect(await redis.get(`${ns}:auth:login:ip:10.0.0.1`)).toBe('10');
    await s.recordSuccess('root', '10.0.0.1');
    expect(await allowed(s, 'root', '10.0.0.1')).toBe('ok');
  });

  it('blocks an address after 50 failures over any usernames, and honours counters already in Redis', async () => {
    const s = throttle();
    for (let i = 0; i < 49; i++) await s.recordFailure(`spray${i}`, '10.0.0.3');
    expect(await allowed(s, 'root', '10.0.0.3')).toBe('ok');
    await s.recordFailure('spray49', '10.0.0.3');
    expect(await allowed(s, 'root', '10.0.0.3')).toMatch(/^TOO_MANY_REQUESTS \d+$/);
    // a counter the previous implementation left (INCR + PEXPIRE) still blocks until it expires
    await redis.set(`${ns}:auth:login:ip:10.0.0.4`, '50', 'PX', 60_000);
    const [, retryAfter] = (await allowed(s, 'root', '10.0.0.4')).split(' ');
    expect(Number(retryAfter)).toBeGreaterThan(55);
    expect(Number(retryAfter)).toBeLessThanOrEqual(60);
  });

  it('lets logins through when Redis cannot be reached', async () => {
    const s = throttle('redis://127.0.0.1:1');
    await s.recordFailure('root', '10.0.0.5');
    expect(await allowed(s, 'root', '10.0.0.5')).toBe('ok');
  }, 15_000);
});
