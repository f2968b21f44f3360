import type { LogQuery, RequestLog, UsageRecord } from '@gg/contracts';
import type { DbManager } from '../../db-manager';
import { authKeyRow, usageRecord } from '../fixtures';
import type { GetContext } from './context';
import { statsContract } from './stats.contract';

const BASE = Date.parse('2026-03-01T10:00:00.000Z');

/** Newest first, ties broken by id descending. */
function newestFirst(rs: UsageRecord[]): string[] {
  return [...rs]
    .sort((a, b) => (a.at === b.at ? (a.requestId < b.requestId ? 1 : -1) : a.at < b.at ? 1 : -1))
    .map((r) => r.requestId);
}

async function allPages(db: DbManager, q: LogQuery): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await db.logs.query({ ...q, cursor });
    expect(page.items.length).toBeLessThanOrEqual(q.limit ?? 50);
    ids.push(...page.items.map((l: RequestLog) => l.id));
    cursor = page.nextCursor ?? undefined;
    pages++;
    if (pages > 100) throw new Error('pagination does not end');
  } while (cursor);
  return { ids, pages };
}

/** Request log: ordering, filters, cursor pagination, purge; then the stats. */
export function logsContract(get: GetContext): void {
  describe('logs', () => {
    let records: UsageRecord[];

    beforeEach(async () => {
      const { db } = get();
      const k1 = await db.authKeys.create(authKeyRow('u1'));
      const k2 = await db.authKeys.create(authKeyRow('u2'));
      records = Array.from({ length: 30 }, (_, i) =>
        usageRecord(i % 3 === 0 ? k2 : k1, {
          // three records share each timestamp: the cursor must break ties
          at: new Date(BASE + Math.floor(i / 3) * 1000).toISOString(),
          status: i % 5 === 0 ? 429 : i % 7 === 0 ? 500 : 200,
          model: i % 2 ? 'gemini-2.5-pro' : 'gemini-2.5-flash',
        }),
      );
      // applied in a shuffled order, in two batches
      const shuffled = [...records.filter((_, i) => i % 2), ...records.filter((_, i) => i % 2 === 0).reverse()];
      await db.usage.apply(shuffled.slice(0, 13));
      await db.usage.apply(shuffled.slice(13));
    });

    it('returns a row as it was recorded', async () => {
      const { db } = get();
      const r = usageRecord(
        { id: 'k-x', userId: 'u-x' },
        {
          at: new Date(BASE + 60_000).toISOString(),
          poolKeyId: null,
          model: null,
          stream: true,
          status: 502,
          ttfbMs: null,
          error: 'upstream closed',
        },
      );
      await db.usage.apply([r]);
      const { requestId, ...rest } = r;
      const [newest, second] = (await db.logs.query({ limit: 2 })).items;
      expect(newest).toEqual({ id: requestId, ...rest });
      expect(second).toBeDefined();
      expect(Object.keys(second as RequestLog)).not.toContain('error');
      expect(typeof second?.stream).toBe('boolean');
    });

    it('pages newest first without duplicates or gaps', async () => {
      const { db } = get();
      const expected = newestFirst(records);
      const { ids, pages } = await allPages(get().db, { limit: 7 });
      expect(ids).toEqual(expected);
      expect(pages).toBe(5);
      const first = await db.logs.query({});
      expect(first.items.map((l) => l.id)).toEqual(expected);
      expect(first.nextCursor).toBeNull();
      const exact = await db.logs.query({ limit: 30 });
      expect(exact.nextCursor).toBeNull();
    });

    it('filters by status, model, key, user and time, also while paging', async () => {
      const { db } = get();
      const check = async (q: LogQuery, keep: (r: UsageRecord) => boolean) => {
        const { ids } = await allPages(db, { limit: 2, ...q });
        expect(ids).toEqual(newestFirst(records.filter(keep)));
        expect(ids.length).toBeGreaterThan(0);
      };
      await check({ status: 429 }, (r) => r.status === 429);
      await check({ model: 'gemini-2.5-pro' }, (r) => r.model === 'gemini-2.5-pro');
      const k2 = (records[0] as UsageRecord).authKeyId;
      await check({ authKeyId: k2 }, (r) => r.authKeyId === k2);
      await check({ userId: 'u1' }, (r) => r.userId === 'u1');
      const since = new Date(BASE + 6000).toISOString();
      await check({ since }, (r) => r.at >= since);
      await check(
        {
          userId: 'u1',
          model: 'gemini-2.5-pro',
          since: new Date(BASE + 2000).toISOString(),
        },
        (r) => r.userId === 'u1' && r.model === 'gemini-2.5-pro' && r.at >= new Date(BASE + 2000).toISOString(),
      );
      expect((await db.logs.query({ userId: 'u2', authKeyId: 'none' })).items).toEqual([]);
      expect((await db.logs.query({ status: 404 })).items).toEqual([]);
    });

    it('treats an unreadable cursor as the first page', async () => {
      const page = await get().db.logs.query({
        limit: 3,
        cursor: 'not-a-cursor',
      });
      expect(page.items.map((l) => l.id)).toEqual(newestFirst(records).slice(0, 3));
    });

    it('purges rows older than a time', async () => {
      const { db } = get();
      const cut = new Date(BASE + 4000).toISOString();
      const older = records.filter((r) => r.at < cut);
      expect(await db.logs.purgeBefore(cut)).toBe(older.length);
      expect(await db.logs.purgeBefore(cut)).toBe(0);
      const left = records.filter((r) => r.at >= cut);
      expect((await allPages(db, { limit: 4 })).ids).toEqual(newestFirst(left));
      const u2 = left.filter((r) => r.userId === 'u2');
      expect((await allPages(db, { limit: 4, userId: 'u2' })).ids).toEqual(newestFirst(u2));
    });
  });

  statsContract(get);
}
