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
