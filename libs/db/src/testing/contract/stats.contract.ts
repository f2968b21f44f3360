import type { StatsWindow, UsageRecord } from '@gg/contracts';
import { authKeyRow, usageRecord } from '../fixtures';
import type { GetContext } from './context';

const MIN = 60_000;

/** Start of the first bucket of a window, computed here independently of the drivers. */
function windowStart(now: number, bucketMs: number, buckets: number): number {
  return Math.floor(now / bucketMs) * bucketMs - (buckets - 1) * bucketMs;
}

/** Dashboard stats: bucket layout per window, sums, errors, per-user view, top keys. */
export function statsContract(get: GetContext): void {
  describe('logs.stats', () => {
    it('puts each request in its bucket, for every window', async () => {
      const { db } = get();
      const k1 = await db.authKeys.create(authKeyRow('u1', { name: 'first' }));
      const k2 = await db.authKeys.create(authKeyRow('u2', { name: 'second' }));
      const now = new Date();
      const nowMs = now.getTime();
      const minutesAgo = [0, 0, 1, 5, 5, 5, 30, 58, 61, 120, 600, 25 * 60, 3 * 24 * 60, 8 * 24 * 60];
      const records: UsageRecord[] = minutesAgo.map((m, i) =>
        usageRecord(i % 3 === 0 ? k2 : k1, {
          at: new Date(nowMs - m * MIN - 1000).toISOString(),
          status: i % 4 === 0 ? 503 : i % 5 === 0 ? 400 : 200,
          promptTokens: i + 1,
          outputTokens: 2 * i,
        }),
      );
      await db.usage.apply(records);

      const layouts: [StatsWindow, number, number][] = [
        ['1h', 60, 60],
        ['24h', 1800, 48],
        ['7d', 7200, 84],
      ];
      for (const [window, bucketSeconds, count] of layouts) {
        const stats = await db.logs.stats(window, now);
        const from = windowStart(nowMs, bucketSeconds * 1000, count);
        expect(stats.window).toBe(window);
        expect(stats.bucketSeconds).toBe(bucketSeconds);
        expect(stats.series).toHaveLength(count);
        expect(stats.series[0]?.t).toBe(new Date(from).toISOString());
        const inWindow = records.filter((r) => Date.parse(r.at) >= from);
        const expected = stats.series.map(() => ({
          requests: 0,
          errors: 0,
          promptTokens: 0,
          outputTokens: 0,
        }));
        for (const r of inWindow) {
          const b = expected[Math.floor((Date.parse(r.at) - from) / (bucketSeconds * 1000))];
          if (!b) throw new Error('record outside the expected buckets');
          b.requests++;
          if (r.status >= 400) b.errors++;
          b.promptTokens += r.promptTokens;
          b.outputTokens += r.outputTokens;
        }
        expect(stats.series.map(({ t: _t, ...point }) => point)).toEqual(expected);
        expect(stats.series.reduce((n, p) => n + p.requests, 0)).toBe(inWindow.length);
        const perKey = (id: string) => inWindow.filter((r) => r.authKeyId === id).length;
        const top = [
          { authKeyId: k1.id, name: 'first', requests: perKey(k1.id) },
          { authKeyId: k2.id, name: 'second', requests: perKey(k2.id) },
        ]
          .filter((t) => t.requests > 0)
          .sort((a, b) => b.requests - a.requests || (a.authKeyId < b.authKeyId ? -1 : 1));
        expect(stats.topKeys).toEqual(top);

        const mine = await db.logs.stats(window, now, 'u2');
        const mineInWindow = inWindow.filter((r) => r.userId === 'u2');
        expect(mine.series.reduce((n, p) => n + p.requests, 0)).toBe(mineInWindow.length);
        expect(mine.topKeys).toEqual(
          mineInWindow.length
            ? [
                {
                  authKeyId: k2.id,
                  name: 'second',
                  requests: mineInWindow.length,
                },
              ]
            : [],
        );
      }
    });

    it('ranks the five busiest keys of the window', async () => {
      const { db } = get();
      const keys = [];
      for (let i = 0; i < 7; i++) keys.push(await db.authKeys.create(authKeyRow('u1', { name: `key-${i}` })));
      const now = new Date();
      const records = keys.flatMap((k, i) =>
        Array.from({ length: i === 6 ? 5 : 7 - i }, () =>
          usageRecord(k, {
            at: new Date(now.getTime() - 2 * MIN).toISOString(),
          }),
        ),
      );
      await db.usage.apply(records);
      const stats = await db.logs.stats('1h', now);
      // requests per key: 7, 6, 5, 4, 3, 2, 5 -> the 5-way tie between key-2 and key-6 is broken by id
      expect(stats.topKeys).toEqual([
        { authKeyId: keys[0]?.id, name: 'key-0', requests: 7 },
        { authKeyId: keys[1]?.id, name: 'key-1', requests: 6 },
        { authKeyId: keys[2]?.id, name: 'key-2', requests: 5 },
        { authKeyId: keys[6]?.id, name: 'key-6', requests: 5 },
        { authKeyId: keys[3]?.id, name: 'key-3', requests: 4 },
      ]);
      expect((await db.logs.stats('1h', now, 'nobody')).series.every((p) => p.requests === 0)).toBe(true);
    });
  });
}
