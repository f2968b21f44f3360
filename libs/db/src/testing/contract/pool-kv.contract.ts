import { poll } from '@gg/testing';
import { poolKeyRow } from '../fixtures';
import type { GetContext } from './context';

/** Pool keys (dedupe by fingerprint, state saves) and the small key-value store. */
export function poolAndKvContract(get: GetContext): void {
  describe('pool keys', () => {
    it('inserts new fingerprints only, within the batch and against stored keys', async () => {
      const { db } = get();
      const a = poolKeyRow();
      const b = poolKeyRow();
      const aAgain = poolKeyRow({ fingerprint: a.fingerprint });
      const first = await db.poolKeys.insertMany([a, b, aAgain]);
      expect(first).toEqual({ added: [a, b], duplicates: 1 });
      const c = poolKeyRow();
      const bAgain = poolKeyRow({ fingerprint: b.fingerprint });
      const second = await db.poolKeys.insertMany([bAgain, c]);
      expect(second).toEqual({ added: [c], duplicates: 1 });
      expect(await db.poolKeys.insertMany([])).toEqual({
        added: [],
        duplicates: 0,
      });
      expect(await db.poolKeys.list()).toEqual([a, b, c]);
      expect(await db.poolKeys.findById(aAgain.id)).toBeNull();
    });

    it('saves one state or many, ignoring unknown ids', async () => {
      const { db } = get();
      const [a, b, c] = [poolKeyRow(), poolKeyRow(), poolKeyRow()];
      await db.poolKeys.insertMany([a, b, c]);
      await db.poolKeys.saveState(a.id, '{"status":"disabled"}');
      await db.poolKeys.saveStates([
        { id: b.id, state: '{"status":"cooldown"}' },
        { id: c.id, state: '{"status":"active","failures":2}' },
        { id: 'p-unknown', state: '{}' },
      ]);
      await db.poolKeys.saveStates([]);
      expect((await db.poolKeys.list()).map((k) => k.state)).toEqual([
        '{"status":"disabled"}',
        '{"status":"cooldown"}',
        '{"status":"active","failures":2}',
      ]);
      expect(await db.poolKeys.findById('p-unknown')).toBeNull();
      expect(await db.poolKeys.findById(a.id)).toEqual({
        ...a,
        state: '{"status":"disabled"}',
      });
    });

    it('deletes a key, after which its fingerprint may be added again', async () => {
      const { db } = get();
      const a = poolKeyRow();
      await db.poolKeys.insertMany([a]);
      expect(await db.poolKeys.delete(a.id)).toBe(true);
      expect(await db.poolKeys.delete(a.id)).toBe(false);
      expect(await db.poolKeys.list()).toEqual([]);
      const again = poolKeyRow({ fingerprint: a.fingerprint });
      expect(await db.poolKeys.insertMany([again])).toEqual({
        added: [again],
        duplicates: 0,
      });
    });
  });

  describe('kv', () => {
    it('gets, sets, overwrites and deletes', async () => {
      const { db } = get();
      expect(await db.kv.get('pause')).toBeNull();
      await db.kv.set('pause', '1');
      expect(await db.kv.get('pause')).toBe('1');
      await db.kv.set('pause', '2');
      expect(await db.kv.get('pause')).toBe('2');
      await db.kv.delete('pause');
      await db.kv.delete('pause');
      expect(await db.kv.get('pause')).toBeNull();
    });

    it('forgets a value after its ttl, and a later set without ttl keeps it', async () => {
      const { db } = get();
      await db.kv.set('short', 'v', 1);
      await db.kv.set('long', 'v', 3600);
      expect(await db.kv.get('short')).toBe('v');
      await poll(
        () => db.kv.get('short'),
        (v) => v === null,
        5000,
        'the short-lived value to expire',
      );
      expect(await db.kv.get('long')).toBe('v');
      await db.kv.set('long', 'w');
      expect(await db.kv.get('long')).toBe('w');
    });
  });
}
