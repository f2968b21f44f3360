import type { AuditEntry, AuditQuery } from '@gg/contracts';
import type { DbManager } from '../../db-manager';
import type { GetContext } from './context';

const BASE = Date.parse('2026-05-01T08:00:00.000Z');

function entry(i: number, over: Partial<AuditEntry> = {}): AuditEntry {
  return {
    // ids not in time order, so that ties at one time must be broken by id and not by insertion
    id: `a-${String((i * 7) % 31).padStart(2, '0')}-${i}`,
    // two entries share each timestamp
    at: new Date(BASE + Math.floor(i / 2) * 1000).toISOString(),
    actorId: i % 3 === 0 ? 'admin-2' : 'admin-1',
    actorName: i % 3 === 0 ? 'bob' : 'alice',
    address: '203.0.113.7',
    action: i % 4 === 0 ? 'user.update' : 'pool-key.delete',
    targetType: i % 4 === 0 ? 'user' : 'pool-key',
    targetId: `t-${i % 5}`,
    targetName: i % 4 === 0 ? `user-${i % 5}` : 'AIza…abcd',
    changes: i % 4 === 0 ? { role: 'admin', isActive: false, password: '(changed)' } : null,
    ...over,
  };
}

function newestFirst(es: AuditEntry[]): string[] {
  return [...es].sort((a, b) => (a.at === b.at ? (a.id < b.id ? 1 : -1) : a.at < b.at ? 1 : -1)).map((e) => e.id);
}

async function allPages(db: DbManager, q: AuditQuery): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await db.audit.query({ ...q, cursor });
    expect(page.items.length).toBeLessThanOrEqual(q.limit ?? 50);
    ids.push(...page.items.map((e) => e.id));
    cursor = page.nextCursor ?? undefined;
    pages++;
    if (pages > 100) throw new Error('pagination does not end');
  } while (cursor);
  return { ids, pages };
}

/** The audit log: entries as stored, newest first, cursor paging, filters, retention purge. */
export function auditContract(get: GetContext): void {
  describe('audit', () => {
    let entries: AuditEntry[];

    beforeEach(async () => {
      entries = Array.from({ length: 24 }, (_, i) => entry(i));
      // inserted out of time order
      for (const e of [...entries.filter((_, i) => i % 2), ...entries.filter((_, i) => i % 2 === 0).reverse()]) {
        await get().db.audit.insert(e);
      }
    });

    it('returns an entry as it was recorded, changes and nulls included', async () => {
      const { db } = get();
      const e = entry(99, {
        at: new Date(BASE + 3_600_000).toISOString(),
        targetId: null,
        targetName: null,
        targetType: 'pool',
        action: 'pool.reset-all',
        changes: { added: 2, masked: ['AIza…abcd', 'AIza…wxyz'], note: null, ok: true },
      });
      await db.audit.insert(e);
      const [newest, second] = (await db.audit.query({ limit: 2 })).items;
      expect(newest).toEqual(e);
      expect(second?.changes).toBeNull();
      expect(await db.audit.query({ targetId: 't-1', limit: 1 })).toMatchObject({ items: [{ targetId: 't-1' }] });
    });

    it('pages newest first without duplicates or gaps', async () => {
      const { db } = get();
      const expected = newestFirst(entries);
      const { ids, pages } = await allPages(db, { limit: 5 });
      expect(ids).toEqual(expected);
      expect(pages).toBe(5);
      const all = await db.audit.query({});
      expect(all.items.map((e) => e.id)).toEqual(expected);
      expect(all.nextCursor).toBeNull();
      expect((await db.audit.query({ limit: 24 })).nextCursor).toBeNull();
      expect((await db.audit.query({ limit: 3, cursor: 'garbage' })).items.map((e) => e.id)).toEqual(
        expected.slice(0, 3),
      );
    });

    it('filters by actor (id or username), action, target and time, also while paging', async () => {
      const { db } = get();
      const check = async (q: AuditQuery, keep: (e: AuditEntry) => boolean) => {
        const { ids } = await allPages(db, { limit: 2, ...q });
        expect(ids).toEqual(newestFirst(entries.filter(keep)));
        expect(ids.length).toBeGreaterThan(0);
      };
      await check({ actor: 'admin-2' }, (e) => e.actorId === 'admin-2');
      await check({ actor: 'alice' }, (e) => e.actorName === 'alice');
      await check({ action: 'user.update' }, (e) => e.action === 'user.update');
      await check({ targetId: 't-3' }, (e) => e.targetId === 't-3');
      const since = new Date(BASE + 5000).toISOString();
      await check({ since }, (e) => e.at >= since);
      await check(
        { actor: 'alice', action: 'pool-key.delete', since: new Date(BASE + 2000).toISOString() },
        (e) => e.actorName === 'alice' && e.action === 'pool-key.delete' && e.at >= new Date(BASE + 2000).toISOString(),
      );
      expect((await db.audit.query({ actor: 'nobody' })).items).toEqual([]);
      expect((await db.audit.query({ targetId: 't-1', action: 'pool.reset-all' })).items).toEqual([]);
    });

    it('purges entries older than a time (retention)', async () => {
      const { db } = get();
      const cut = new Date(BASE + 4000).toISOString();
      const older = entries.filter((e) => e.at < cut);
      expect(older.length).toBeGreaterThan(0);
      expect(await db.audit.purgeBefore(cut)).toBe(older.length);
      expect(await db.audit.purgeBefore(cut)).toBe(0);
      const left = entries.filter((e) => e.at >= cut);
      expect((await allPages(db, { limit: 4 })).ids).toEqual(newestFirst(left));
      expect((await allPages(db, { limit: 4, actor: 'bob' })).ids).toEqual(
        newestFirst(left.filter((e) => e.actorName === 'bob')),
      );
    });

    it('keeps its entries across a reopen', async () => {
      const db = await get().reopen();
      expect((await allPages(db, { limit: 10 })).ids).toEqual(newestFirst(entries));
    });
  });
}
