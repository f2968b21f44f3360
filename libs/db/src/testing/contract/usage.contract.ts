import type { UsageRecord } from '@gg/contracts';
import type { AuthKeyRow } from '../../db-manager';
import { authKeyRow, usageRecord } from '../fixtures';
import type { GetContext } from './context';

const ids = (rs: UsageRecord[]) => rs.map((r) => r.requestId).sort();

/** usage.apply: counters, idempotency by requestId, concurrency, unknown keys, large batches. */
export function usageContract(get: GetContext): void {
  describe('usage.apply', () => {
    let key: AuthKeyRow;
    let other: AuthKeyRow;

    beforeEach(async () => {
      key = await get().db.authKeys.create(authKeyRow('u1'));
      other = await get().db.authKeys.create(authKeyRow('u2'));
    });

    it('adds calls and tokens per key and keeps the latest lastUsedAt', async () => {
      const { db } = get();
      const late = usageRecord(key, {
        at: '2026-03-01T12:00:05.000Z',
        promptTokens: 7,
        outputTokens: 11,
      });
      const early = usageRecord(key, {
        at: '2026-03-01T12:00:01.000Z',
        promptTokens: 3,
        outputTokens: 4,
      });
      const elsewhere = usageRecord(other, { at: '2026-03-01T12:00:09.000Z' });
      const applied = await db.usage.apply([late, early, elsewhere]);
      expect(ids(applied)).toEqual(ids([late, early, elsewhere]));
      expect(await db.authKeys.findById(key.id)).toMatchObject({
        callCount: 2,
        promptTokens: 10,
        outputTokens: 15,
        lastUsedAt: late.at,
      });
      expect(await db.authKeys.findById(other.id)).toMatchObject({
        callCount: 1,
        lastUsedAt: elsewhere.at,
      });
      await db.usage.apply([usageRecord(key, { at: '2026-02-01T00:00:00.000Z' })]);
      expect((await db.authKeys.findById(key.id))?.lastUsedAt).toBe(late.at);
      expect((await db.authKeys.findById(key.id))?.callCount).toBe(3);
    });

    it('counts a request once, whether the batch repeats, overlaps or holds it twice', async () => {
      const { db } = get();
      const [a, b, c] = [usageRecord(key), usageRecord(key), usageRecord(key)] as [
        UsageRecord,
        UsageRecord,
        UsageRecord,
      ];
      expect(await db.usage.apply([a, b])).toHaveLength(2);
      expect(await db.usage.apply([a, b])).toEqual([]);
      expect(ids(await db.usage.apply([b, c, c]))).toEqual([c.requestId]);
      expect(await db.usage.apply([])).toEqual([]);
      expect(await db.authKeys.findById(key.id)).toMatchObject({
        callCount: 3,
        promptTokens: 30,
        outputTokens: 60,
      });
      const logs = await db.logs.query({ limit: 100 });
      expect(logs.items.map((l) => l.id).sort()).toEqual(ids([a, b, c]));
    });

    it('counts once when two overlapping batches are applied at the same time', async () => {
      const { db } = get();
      const records = Array.from({ length: 60 }, () => usageRecord(key));
      const first = records.slice(0, 40);
      const second = records.slice(20);
      const [r1, r2, r3] = await Promise.all([db.usage.apply(first), db.usage.apply(second), db.usage.apply(records)]);
      const all = [...r1, ...r2, ...r3];
      expect(all).toHaveLength(60);
      expect(new Set(all.map((r) => r.requestId)).size).toBe(60);
      expect(await db.authKeys.findById(key.id)).toMatchObject({
        callCount: 60,
        promptTokens: 600,
        outputTokens: 1200,
      });
    });

    it('counts once, in the counters and the stats, large batches applied twice at the same time', async () => {
      const { db } = get();
      const now = new Date();
      // more records than one store call takes at once (the Redis driver sends them in several atomic calls), with
      // ids repeated across that boundary and an error every 7th
      const fresh = Array.from({ length: 700 }, (_, i) =>
        usageRecord(i % 3 ? key : other, {
          at: new Date(now.getTime() - (i % 5) * 1000).toISOString(),
          status: i % 7 === 0 ? 429 : 200,
          promptTokens: 2,
          outputTokens: 3,
        }),
      );
      const batch = [...fresh, fresh[0], fresh[10], fresh[400], fresh[699]] as UsageRecord[];
      const [r1, r2] = await Promise.all([db.usage.apply(batch), db.usage.apply([...batch].reverse())]);
      expect([...r1, ...r2]).toHaveLength(700);
      expect(new Set([...r1, ...r2].map((r) => r.requestId)).size).toBe(700);
      expect(await db.usage.apply(batch)).toEqual([]);
      const forKey = fresh.filter((r) => r.authKeyId === key.id).length;
      expect(await db.authKeys.findById(key.id)).toMatchObject({
        callCount: forKey,
        promptTokens: 2 * forKey,
        outputTokens: 3 * forKey,
      });
      expect((await db.authKeys.findById(other.id))?.callCount).toBe(700 - forKey);
      const stats = await db.logs.stats('1h', now);
      expect(stats.series.reduce((n, p) => n + p.requests, 0)).toBe(700);
      expect(stats.series.reduce((n, p) => n + p.errors, 0)).toBe(fresh.filter((r) => r.status >= 400).length);
      expect(stats.series.reduce((n, p) => n + p.promptTokens, 0)).toBe(1400);
      expect(stats.topKeys.find((k) => k.authKeyId === key.id)?.requests).toBe(forKey);
      const mine = await db.logs.stats('1h', now, 'u1');
      expect(mine.series.reduce((n, p) => n + p.requests, 0)).toBe(forKey);
      expect((await db.logs.query({ authKeyId: other.id, limit: 1000 })).items).toHaveLength(700 - forKey);
    });

    it('stores records of an unknown key without creating the key', async () => {
      const { db } = get();
      const orphan = usageRecord({ id: 'k-gone', userId: 'u9' });
      expect(await db.usage.apply([orphan, usageRecord(key)])).toHaveLength(2);
      expect(await db.authKeys.findById('k-gone')).toBeNull();
      expect((await db.authKeys.findById(key.id))?.callCount).toBe(1);
      expect((await db.logs.query({ authKeyId: 'k-gone' })).items.map((l) => l.id)).toEqual([orphan.requestId]);
    });

    it('applies a batch of 500 records', async () => {
      const { db } = get();
      const base = Date.parse('2026-03-01T00:00:00.000Z');
      const batch = Array.from({ length: 500 }, (_, i) =>
        usageRecord(i % 2 ? key : other, {
          at: new Date(base + i * 1000).toISOString(),
          promptTokens: 1,
          outputTokens: 2,
        }),
      );
      expect(await db.usage.apply(batch)).toHaveLength(500);
      expect(await db.authKeys.findById(key.id)).toMatchObject({
        callCount: 250,
        promptTokens: 250,
        outputTokens: 500,
        lastUsedAt: new Date(base + 499 * 1000).toISOString(),
      });
      expect((await db.authKeys.findById(other.id))?.callCount).toBe(250);
    });
  });
}
