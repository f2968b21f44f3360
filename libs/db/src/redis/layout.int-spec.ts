import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { testRedisUrl } from '@gg/testing';
import { deleteNamespace, userRow } from '../testing/fixtures';
import { RedisKeys } from './keys';
import { upgradeRedisLayout, type RedisUpgradeStep } from './layout';
import { RedisDbManager } from './redis-db-manager';

const REDIS_URL = testRedisUrl();

describe('Redis layout version', () => {
  let admin: Redis;
  let namespace: string;
  let keys: RedisKeys;
  const open = () => RedisDbManager.open({ redisUrl: REDIS_URL, redisNamespace: namespace, service: 'auth' });

  beforeAll(() => {
    admin = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    await admin.quit();
  });
  beforeEach(() => {
    namespace = `t-${randomUUID().slice(0, 12)}`;
    keys = new RedisKeys(namespace, 'auth');
  });
  afterEach(async () => {
    await deleteNamespace(admin, namespace);
  });

  it("a new database is at version 1, recorded under the service's prefix", async () => {
    const db = await open();
    await db.close();
    expect(db.migration).toEqual({ version: '1', adopted: false, applied: [] });
    expect(await admin.get(`${namespace}:db:auth:schema-version`)).toBe('1');
    expect(await admin.exists(keys.schemaLock())).toBe(0);
  });

  it('adopts a first-release layout (data, no version) as version 1 and keeps the data', async () => {
    const first = await open();
    await first.users.create(userRow({ username: 'old-carol' }));
    await first.close();
    await admin.del(keys.schemaVersion()); // as the first release left it
    const db = await open();
    try {
      expect(db.migration).toEqual({ version: '1', adopted: true, applied: [] });
      expect((await db.users.list()).map((u) => u.username)).toEqual(['old-carol']);
    } finally {
      await db.close();
    }
    expect(await admin.get(keys.schemaVersion())).toBe('1');
  });

  it('runs each upgrade step once when two processes start together, then nothing', async () => {
    await admin.set(keys.schemaVersion(), '1');
    await admin.set(`${keys.prefix}legacy`, 'a');
    let runs = 0;
    const steps: RedisUpgradeStep[] = [
      {
        version: 2,
        description: 'rename legacy',
        run: async (redis, k) => {
          runs++;
          await new Promise((r) => setTimeout(r, 200)); // long enough for the other process to find the lock held
          if (await redis.exists(`${k.prefix}legacy`)) await redis.rename(`${k.prefix}legacy`, `${k.prefix}renamed`);
        },
      },
    ];
    const a = new Redis(REDIS_URL);
    const b = new Redis(REDIS_URL);
    try {
      const reports = await Promise.all([upgradeRedisLayout(a, keys, steps), upgradeRedisLayout(b, keys, steps)]);
      expect(runs).toBe(1);
      expect(reports.map((r) => r.applied).sort()).toEqual([[], ['2: rename legacy']]);
      expect(await admin.get(`${keys.prefix}renamed`)).toBe('a');
      expect(await admin.get(keys.schemaVersion())).toBe('2');
      expect(await upgradeRedisLayout(a, keys, steps)).toEqual({ version: '2', adopted: false, applied: [] });
      expect(runs).toBe(1);
    } finally {
      a.disconnect();
      b.disconnect();
    }
  });

  it('refuses a layout written by a newer release', async () => {
    await admin.set(keys.schemaVersion(), '7');
    await expect(open()).rejects.toThrow(/layout version 7, newer than this release knows \(1\)/);
  });
});
