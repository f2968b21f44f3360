import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { authKeyRow, poolKeyRow, usageRecord, userRow } from '../fixtures';
import type { GetContext } from './context';

interface Env {
  dir: string;
  namespace: string;
  admin: Redis;
}

/** Everything written survives close() and reopen, where each backend keeps it. */
export function persistenceContract(get: GetContext, env: () => Env): void {
  describe('persistence', () => {
    it('keeps every kind of row across close and reopen', async () => {
      const ctx = get();
      const user = await ctx.db.users.create(userRow());
      const key = await ctx.db.authKeys.create(authKeyRow(user.id));
      const record = usageRecord(key, { at: '2026-03-01T10:00:00.000Z' });
      await ctx.db.usage.apply([record]);
      const pool = poolKeyRow();
      await ctx.db.poolKeys.insertMany([pool]);
      await ctx.db.kv.set('affinity:files/abc', pool.id);

      const db = await ctx.reopen();
      await expect(db.ping()).resolves.toBe(true);
      expect(await db.users.findByUsername(user.username)).toEqual(user);
      expect(await db.authKeys.findByHash(key.hash)).toEqual({
        ...key,
        callCount: 1,
        promptTokens: record.promptTokens,
        outputTokens: record.outputTokens,
        lastUsedAt: record.at,
      });
      expect((await db.logs.query({})).items.map((l) => l.id)).toEqual([record.requestId]);
      expect(await db.usage.apply([record])).toEqual([]);
      expect((await db.authKeys.findById(key.id))?.callCount).toBe(1);
      expect(await db.poolKeys.insertMany([poolKeyRow({ fingerprint: pool.fingerprint })])).toMatchObject({
        duplicates: 1,
      });
      expect(await db.kv.get('affinity:files/abc')).toBe(pool.id);

      const { dir, namespace, admin } = env();
      if (db.type === 'sqlite') {
        expect(existsSync(join(dir, 'svc.sqlite'))).toBe(true);
        expect(await admin.keys(`${namespace}:*`)).toEqual([]);
      } else {
        const keys = await admin.keys(`${namespace}:*`);
        expect(keys.length).toBeGreaterThan(0);
        expect(keys.every((k) => k.startsWith(`${namespace}:db:svc:`))).toBe(true);
      }
    });
  });
}
