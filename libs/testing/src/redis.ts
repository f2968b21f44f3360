import { redisOptions } from '@gg/config';
import { Redis, type RedisOptions } from 'ioredis';

/** Where the tests' Redis is: `REDIS_URL`, or redis://127.0.0.1:6379 as in the README. Read on every call. */
export function testRedisUrl(): string {
  return process.env['REDIS_URL'] || 'redis://127.0.0.1:6379';
}

/** Connection options (host, port, user, password, db, TLS) of the tests' Redis, for BullMQ and ioredis. */
export function testRedisOptions(extra: RedisOptions = {}): RedisOptions {
  return { ...redisOptions(testRedisUrl()), ...extra };
}

/** A new ioredis client of the tests' Redis; the caller closes it. */
export function testRedis(extra: RedisOptions = {}): Redis {
  return new Redis(testRedisOptions(extra));
}
