import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, redisOptions, type AppConfig } from '@gg/config';
import { LISTED_RESOURCE_KINDS, resourceRedisKeys as K, type ResourceKind } from '@gg/contracts';
import Redis from 'ioredis';
import { LRUCache } from 'lru-cache';

/** One owned resource, as recorded. */
export interface StoredResource {
  name: string;
  kind: ResourceKind;
  userId: string;
  keyId: string;
  sizeBytes: number | null;
  createdAt: number;
  /** epoch ms; 0 = kept until deleted */
  expiresAt: number;
}

export interface PagePosition {
  score: number;
  name: string;
}

const LOCAL_MAX = 50_000;
/** a record read once is trusted locally this long (owners never change; a delete elsewhere only makes the
 * owner's next call go upstream and be answered there) */
const LOCAL_TTL_MS = 60_000;
/** a record outlives Google's expiry by this much, so the owner gets Google's own answer at the very edge */
const GRACE_MS = 3600_000;
const LISTED = new Set<ResourceKind>(LISTED_RESOURCE_KINDS);
/** oldest names of a user's index checked on each new record */
const SWEEP = 10;

/**
 * Who owns what: Redis records shared by every replica (layout in `resourceRedisKeys`), an LRU in front. Writes
 * are awaited, so a resource is known on every replica before its creator hears of it.
 */
@Injectable()
export class ResourceStore implements OnApplicationShutdown {
  private readonly redis: Redis;
  private readonly ns: string;
  private readonly local = new LRUCache<string, StoredResource>({ max: LOCAL_MAX, ttl: LOCAL_TTL_MS });

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.redis = new Redis({ ...redisOptions(config.redisUrl), maxRetriesPerRequest: 2, enableOfflineQueue: true });
    this.redis.on('error', () => undefined);
    this.ns = config.redisNamespace;
  }

  /** The records of these names (null where none); throws when Redis cannot answer. */
  async get(names: string[]): Promise<(StoredResource | null)[]> {
    const out: (StoredResource | null)[] = names.map((n) => this.local.get(n) ?? null);
    const missing = names.map((n, i) => (out[i] ? -1 : i)).filter((i) => i !== -1);
    if (missing.length === 0) return out;
    const p = this.redis.pipeline();
    for (const i of missing) p.hgetall(K.record(this.ns, names[i]));
    const res = (await p.exec()) ?? [];
    missing.forEach((i, j) => {
      const [err, h] = res[j] ?? [null, null];
      if (err) throw err;
      const r = fromHash(names[i], h as Record<string, string> | null);
      if (r && (r.expiresAt === 0 || r.expiresAt + GRACE_MS > Date.now())) {
        out[i] = r;
        this.local.set(r.name, r, { ttl: this.localTtl(r) });
      }
    });
    return out;
  }

  async put(r: StoredResource): Promise<void> {
    const key = K.record(this.ns, r.name);
    const m = this.redis.multi();
    m.hset(key, {
      u: r.userId,
      k: r.keyId,
      t: r.kind,
      s: r.sizeBytes === null ? '' : String(r.sizeBytes),
      c: String(r.createdAt),
      e: String(r.expiresAt),
    });
    if (r.expiresAt > 0) m.pexpireat(key, r.expiresAt + GRACE_MS);
    else m.persist(key);
    if (LISTED.has(r.kind)) {
      m.zadd(K.byUser(this.ns, r.userId, r.kind), r.createdAt, r.name);
      m.zadd(K.byKey(this.ns, r.keyId), r.expiresAt > 0 ? r.expiresAt : '+inf', r.name);
    }
    await m.exec();
    this.local.set(r.name, r, { ttl: this.localTtl(r) });
    if (LISTED.has(r.kind)) void this.sweep(r).catch(() => undefined);
  }

  /**
   * The indexes forget expired names as they go: the key's by expiry, the user's (by creation) a few of the oldest
   * at a time, those whose record has gone. Lists drop such names too; this keeps a user who never lists bounded.
   */
  private async sweep(r: StoredResource): Promise<void> {
    await this.redis.zremrangebyscore(K.byKey(this.ns, r.keyId), '-inf', Date.now() - GRACE_MS);
    const index = K.byUser(this.ns, r.userId, r.kind);
    const oldest = await this.redis.zrange(index, 0, SWEEP - 1);
    if (oldest.length === 0) return;
    const p = this.redis.pipeline();
    for (const n of oldest) p.exists(K.record(this.ns, n));
    const exists = (await p.exec()) ?? [];
    const gone = oldest.filter((_, i) => exists[i]?.[1] === 0);
    if (gone.length) await this.redis.zrem(index, ...gone);
  }

  async remove(r: StoredResource): Promise<void> {
    this.local.delete(r.name);
    await this.redis
      .multi()
      .del(K.record(this.ns, r.name))
      .zrem(K.byUser(this.ns, r.userId, r.kind), r.name)
      .zrem(K.byKey(this.ns, r.keyId), r.name)
      .exec();
  }

  /**
   * A page of a user's names of one kind, oldest first, after `after` (exclusive); `count` at most. Names whose
   * record has expired are dropped from the index on the way.
   */
  async page(
    userId: string,
    kind: ResourceKind,
    after: PagePosition | null,
    count: number,
  ): Promise<{ record: StoredResource; pos: PagePosition }[]> {
    const index = K.byUser(this.ns, userId, kind);
    const out: { record: StoredResource; pos: PagePosition }[] = [];
    let offset = 0;
    const batch = Math.max(count, 20);
    for (;;) {
      const raw = await this.redis.zrange(
        index,
        after ? after.score : '-inf',
        '+inf',
        'BYSCORE',
        'LIMIT',
        offset,
        batch,
        'WITHSCORES',
      );
      if (raw.length === 0) return out;
      offset += raw.length / 2;
      const candidates: PagePosition[] = [];
      for (let i = 0; i < raw.length; i += 2) {
        const pos = { name: raw[i], score: Number(raw[i + 1]) };
        if (after && pos.score === after.score && pos.name <= after.name) continue;
        candidates.push(pos);
      }
      const records = await this.get(candidates.map((c) => c.name));
      const gone: string[] = [];
      candidates.forEach((pos, i) => {
        const r = records[i];
        if (r && r.userId === userId) out.push({ record: r, pos });
        else if (!r) gone.push(pos.name);
      });
      if (gone.length) await this.redis.zrem(index, ...gone);
      if (out.length >= count) return out.slice(0, count);
      if (raw.length / 2 < batch) return out;
    }
  }

  private localTtl(r: StoredResource): number {
    return r.expiresAt === 0 ? LOCAL_TTL_MS : Math.max(1, Math.min(LOCAL_TTL_MS, r.expiresAt + GRACE_MS - Date.now()));
  }

  onApplicationShutdown(): void {
    this.redis.disconnect();
  }
}

function fromHash(name: string, h: Record<string, string> | null): StoredResource | null {
  if (!h || !h['u'] || !h['k'] || !h['t']) return null;
  return {
    name,
    kind: h['t'] as ResourceKind,
    userId: h['u'],
    keyId: h['k'],
    sizeBytes: h['s'] ? Number(h['s']) : null,
    createdAt: Number(h['c']) || 0,
    expiresAt: Number(h['e']) || 0,
  };
}
