import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, redisOptions, type AppConfig } from '@gg/config';
import {
  LISTED_RESOURCE_KINDS,
  resourceRedisKeys as K,
  type PoolKey,
  type ResourceCounts,
  type ResourceKind,
  type ResourceRecord,
} from '@gg/contracts';
import Redis from 'ioredis';

const MAX_PER_USER = 10_000;

/**
 * The gateways' resource records (owner, pool key, kind, size, expiry), read for the admin: which resources a user
 * holds, how many each pool key holds. Ownership only: key-pool never sees a resource's content or display name.
 */
@Injectable()
export class ResourceRecordsService implements OnApplicationShutdown {
  private readonly redis: Redis;
  private readonly ns: string;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.redis = new Redis({ ...redisOptions(config.redisUrl), maxRetriesPerRequest: 2 });
    this.redis.on('error', () => undefined);
    this.ns = config.redisNamespace;
  }

  async byUser(userId: string, now = Date.now()): Promise<ResourceRecord[]> {
    const out: ResourceRecord[] = [];
    for (const kind of LISTED_RESOURCE_KINDS) {
      const names = await this.redis.zrange(K.byUser(this.ns, userId, kind), 0, MAX_PER_USER - 1);
      if (names.length === 0) continue;
      const p = this.redis.pipeline();
      for (const n of names) p.hgetall(K.record(this.ns, n));
      const rows = (await p.exec()) ?? [];
      names.forEach((name, i) => {
        const h = rows[i]?.[1] as Record<string, string> | null;
        if (!h || h['u'] !== userId) return;
        const expiresAt = Number(h['e']) || 0;
        if (expiresAt > 0 && expiresAt <= now) return;
        out.push({
          name,
          kind: (h['t'] as ResourceKind) ?? kind,
          userId,
          poolKeyId: h['k'] ?? '',
          sizeBytes: h['s'] ? Number(h['s']) : null,
          createdAt: new Date(Number(h['c']) || 0).toISOString(),
          expiresAt: expiresAt > 0 ? new Date(expiresAt).toISOString() : null,
        });
      });
    }
    return out;
  }

  /** Live resources per pool key (expired entries are dropped from the index on the way). */
  async counts(keyIds: string[], now = Date.now()): Promise<ResourceCounts> {
    if (keyIds.length === 0) return {};
    const p = this.redis.pipeline();
    for (const id of keyIds) {
      p.zremrangebyscore(K.byKey(this.ns, id), '-inf', now);
      p.zcard(K.byKey(this.ns, id));
    }
    const rows = (await p.exec()) ?? [];
    const out: ResourceCounts = {};
    keyIds.forEach((id, i) => (out[id] = Number(rows[i * 2 + 1]?.[1] ?? 0)));
    return out;
  }

  /** The pool page's keys with their resource counts; without them when Redis cannot say. */
  async withCounts(keys: PoolKey[]): Promise<PoolKey[]> {
    const counts = await this.counts(keys.map((k) => k.id)).catch(() => null);
    return counts ? keys.map((k) => ({ ...k, resources: counts[k.id] ?? 0 })) : keys;
  }

  onApplicationShutdown(): void {
    this.redis.disconnect();
  }
}
