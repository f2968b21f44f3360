import type { KvRepository } from '../db-manager';
import type { RedisKeys } from './keys';
import type { ScriptedRedis } from './scripts';

export class RedisKvRepository implements KvRepository {
  constructor(
    private readonly redis: ScriptedRedis,
    private readonly keys: RedisKeys,
  ) {}

  get(key: string): Promise<string | null> {
    return this.redis.get(this.keys.kv(key));
  }

  async set(key: string, value: string, ttlSeconds?: number): Promise<void> {
    if (ttlSeconds !== undefined && ttlSeconds > 0) {
      await this.redis.set(this.keys.kv(key), value, 'PX', Math.ceil(ttlSeconds * 1000));
    } else {
      await this.redis.set(this.keys.kv(key), value);
    }
  }

  async delete(key: string): Promise<void> {
    await this.redis.del(this.keys.kv(key));
  }
}
