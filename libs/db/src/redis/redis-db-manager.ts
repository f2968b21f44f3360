import { redisOptions } from '@gg/config';
import { Redis } from 'ioredis';
import type { DbManager, DbManagerOptions, MigrationReport } from '../db-manager';
import { RedisAuditRepository } from './audit.repository';
import { RedisAuthKeysRepository } from './auth-keys.repository';
import { RedisKeys } from './keys';
import { RedisKvRepository } from './kv.repository';
import { upgradeRedisLayout } from './layout';
import { RedisLogsRepository } from './logs.repository';
import { RedisPoolKeysRepository } from './pool-keys.repository';
import { defineScripts, type ScriptedRedis } from './scripts';
import { RedisUsageRepository } from './usage.repository';
import { RedisUsersRepository } from './users.repository';

const PING_TIMEOUT_MS = 2000;

/**
 * Redis driver: owns one ioredis connection; every key under `${redisNamespace}:db:${service}:`. Opening brings the
 * layout to the current version (layout.ts).
 */
export class RedisDbManager implements DbManager {
  readonly type = 'redis' as const;
  readonly users: RedisUsersRepository;
  readonly authKeys: RedisAuthKeysRepository;
  readonly usage: RedisUsageRepository;
  readonly logs: RedisLogsRepository;
  readonly poolKeys: RedisPoolKeysRepository;
  readonly kv: RedisKvRepository;
  readonly audit: RedisAuditRepository;
  readonly keys: RedisKeys;

  private constructor(
    private readonly redis: ScriptedRedis,
    keys: RedisKeys,
    readonly migration: MigrationReport,
  ) {
    this.keys = keys;
    this.users = new RedisUsersRepository(redis, keys);
    this.authKeys = new RedisAuthKeysRepository(redis, keys);
    this.usage = new RedisUsageRepository(redis, keys);
    this.logs = new RedisLogsRepository(redis, keys);
    this.poolKeys = new RedisPoolKeysRepository(redis, keys);
    this.kv = new RedisKvRepository(redis, keys);
    this.audit = new RedisAuditRepository(redis, keys);
  }

  static async open(opts: Pick<DbManagerOptions, 'redisUrl' | 'redisNamespace' | 'service'>): Promise<RedisDbManager> {
    const redis = new Redis({
      ...redisOptions(opts.redisUrl),
      lazyConnect: true,
    });
    await redis.connect();
    const keys = new RedisKeys(opts.redisNamespace, opts.service);
    try {
      const migration = await upgradeRedisLayout(redis, keys);
      return new RedisDbManager(defineScripts(redis), keys, migration);
    } catch (e) {
      redis.disconnect();
      throw e;
    }
  }

  async ping(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), PING_TIMEOUT_MS);
    });
    try {
      return await Promise.race([this.redis.ping().then((r) => r === 'PONG'), timeout]);
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    if (this.redis.status === 'end') return;
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }
}
