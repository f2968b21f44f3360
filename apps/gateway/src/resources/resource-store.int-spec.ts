import { randomBytes } from 'node:crypto';
import type { AppConfig } from '@gg/config';
import Redis from 'ioredis';
import { testRedisUrl } from '@gg/testing';
import { ResourceStore, type StoredResource } from './resource-store.service';

const REDIS_URL = testRedisUrl();

/** The records on the real Redis: shared by replicas, paged in order (ties included), expired ones dropped. */
describe('ResourceStore (real Redis)', () => {
  const ns = `t-res-${randomBytes(4).toString('hex')}`;
  const config = { redisUrl: REDIS_URL, redisNamespace: ns } as AppConfig;
  const a = new ResourceStore(config);
  const b = new ResourceStore(config);
  const redis = new Redis(REDIS_URL);
  const rec = (name: string, over: Partial<StoredResource> = {}): StoredResource => ({
    name,
    kind: 'file',
    userId: 'u1',
    keyId: 'k1',
    sizeBytes: 3,
    createdAt: 1000,
    expiresAt: Date.now() + 3600_000,
    ...over,
  });

  afterAll(async () => {
    const keys = await redis.keys(`${ns}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    a.onApplicationShutdown();
    b.onApplicationShutdown();
  });

  it('a record written by one replica is read by another, and removed for both', async () => {
    await a.put(rec('files/shared'));
    expect((await b.get(['files/shared', 'files/none']))[0]).toMatchObject({ userId: 'u1', keyId: 'k1', sizeBytes: 3 });
    const [r] = await b.get(['files/shared']);
    await b.remove(r!);
    expect(await b.get(['files/shared'])).toEqual([null]);
    // a replica that read it before trusts its copy up to a minute (owners never change: only the owner gets through)
    const fresh = new ResourceStore(config);
    expect(await fresh.get(['files/shared'])).toEqual([null]);
    fresh.onApplicationShutdown();
  });

  it('pages a user’s names oldest first, across equal creation times, without other users’ or expired ones', async () => {
    for (const n of ['files/t3', 'files/t1', 'files/t2']) await a.put(rec(n, { createdAt: 5000 }));
    await a.put(rec('files/t0', { createdAt: 4000 }));
    await a.put(rec('files/t4', { createdAt: 6000 }));
    await a.put(rec('files/other', { createdAt: 4500, userId: 'u2' }));
    await a.put(rec('files/gone', { createdAt: 5500, expiresAt: Date.now() - 2 * 3600_000 }));
    const seen: string[] = [];
    let after = null;
    for (let i = 0; i < 10; i++) {
      const page = await b.page('u1', 'file', after, 2);
      if (page.length === 0) break;
      seen.push(...page.map((p) => p.record.name));
      after = page[page.length - 1].pos;
    }
    expect(seen).toEqual(['files/t0', 'files/t1', 'files/t2', 'files/t3', 'files/t4']);
    expect(await redis.zrange(`${ns}:resources:u:u1:file`, 0, -1)).not.toContain('files/gone');
  });
});
