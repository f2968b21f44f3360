import { UniqueViolationError } from '../../errors';
import { authKeyRow, userRow } from '../fixtures';
import type { GetContext } from './context';

/** Users and auth keys: CRUD, unique fields, lookups by index. */
export function accountsContract(get: GetContext): void {
  describe('users', () => {
    it('creates, finds, lists in creation order, counts', async () => {
      const { db } = get();
      const a = userRow({ role: 'admin' });
      const b = userRow();
      await db.users.create(b);
      await db.users.create(a);
      expect(await db.users.findById(a.id)).toEqual(a);
      expect(await db.users.findByUsername(b.username)).toEqual(b);
      expect(await db.users.findById('missing')).toBeNull();
      expect(await db.users.findByUsername('missing')).toBeNull();
      expect((await db.users.list()).map((u) => u.id)).toEqual([a.id, b.id]);
      expect(await db.users.count()).toBe(2);
    });

    it('refuses a taken username, on create and on rename', async () => {
      const { db } = get();
      const a = await db.users.create(userRow({ username: 'alice' }));
      const b = await db.users.create(userRow({ username: 'bob' }));
      await expect(db.users.create(userRow({ username: 'alice' }))).rejects.toBeInstanceOf(UniqueViolationError);
      await expect(db.users.update(b.id, { username: 'alice' })).rejects.toBeInstanceOf(UniqueViolationError);
      expect((await db.users.findByUsername('alice'))?.id).toBe(a.id);
      expect((await db.users.findByUsername('bob'))?.id).toBe(b.id);
      expect(await db.users.count()).toBe(2);
    });

    it('updates only the given fields; a rename frees the old name', async () => {
      const { db } = get();
      const a = await db.users.create(userRow({ username: 'carol' }));
      const updated = await db.users.update(a.id, {
        username: 'caroline',
        isActive: false,
        tokenVersion: 3,
      });
      expect(updated).toEqual({
        ...a,
        username: 'caroline',
        isActive: false,
        tokenVersion: 3,
      });
      expect(await db.users.findByUsername('carol')).toBeNull();
      expect(await db.users.findByUsername('caroline')).toEqual(updated);
      await db.users.create(userRow({ username: 'carol' }));
      expect(await db.users.update(a.id, {})).toEqual(updated);
      expect(await db.users.update('missing', { role: 'admin' })).toBeNull();
    });

    it('deletes once and frees the username', async () => {
      const { db } = get();
      const a = await db.users.create(userRow({ username: 'dave' }));
      expect(await db.users.delete(a.id)).toBe(true);
      expect(await db.users.delete(a.id)).toBe(false);
      expect(await db.users.findById(a.id)).toBeNull();
      expect(await db.users.findByUsername('dave')).toBeNull();
      expect(await db.users.count()).toBe(0);
      await expect(db.users.create(userRow({ username: 'dave' }))).resolves.toBeTruthy();
    });
  });

  describe('auth keys', () => {
    it('creates, finds by id and by hash, lists by user', async () => {
      const { db } = get();
      const k1 = authKeyRow('u1', { expiresAt: '2027-01-01T00:00:00.000Z' });
      const k2 = authKeyRow('u1');
      const k3 = authKeyRow('u2', { isActive: false });
      for (const k of [k2, k3, k1]) await db.authKeys.create(k);
      expect(await db.authKeys.findById(k1.id)).toEqual(k1);
      expect(await db.authKeys.findByHash(k3.hash)).toEqual(k3);
      expect(await db.authKeys.findByHash('nope')).toBeNull();
      expect((await db.authKeys.listByUser('u1')).map((k) => k.id)).toEqual([k1.id, k2.id]);
      expect(await db.authKeys.listByUser('nobody')).toEqual([]);
    });

    it('refuses a taken hash', async () => {
      const { db } = get();
      const k1 = await db.authKeys.create(authKeyRow('u1', { hash: 'same' }));
      const k2 = await db.authKeys.create(authKeyRow('u1'));
      await expect(db.authKeys.create(authKeyRow('u2', { hash: 'same' }))).rejects.toBeInstanceOf(UniqueViolationError);
      await expect(db.authKeys.update(k2.id, { hash: 'same' })).rejects.toBeInstanceOf(UniqueViolationError);
      expect((await db.authKeys.findByHash('same'))?.id).toBe(k1.id);
      expect(await db.authKeys.listByUser('u2')).toEqual([]);
    });

    it('updates name, state, secret and expiry; a new hash replaces the old one', async () => {
      const { db } = get();
      const k = await db.authKeys.create(authKeyRow('u1', { expiresAt: '2027-01-01T00:00:00.000Z' }));
      const updated = await db.authKeys.update(k.id, {
        name: 'renamed',
        isActive: false,
        hash: 'rotated',
        prefix: 'gg-new',
        expiresAt: null,
      });
      expect(updated).toEqual({
        ...k,
        name: 'renamed',
        isActive: false,
        hash: 'rotated',
        prefix: 'gg-new',
        expiresAt: null,
      });
      expect(await db.authKeys.findByHash(k.hash)).toBeNull();
      expect(await db.authKeys.findByHash('rotated')).toEqual(updated);
      expect(await db.authKeys.update('missing', { name: 'x' })).toBeNull();
    });

    it('keeps the optional limits, and clears them with null', async () => {
      const { db } = get();
      const k = await db.authKeys.create(
        authKeyRow('u1', { rateLimitPerMinute: 60, allowedModels: ['gemini-2.5-flash', 'gemini-2.5-pro'] }),
      );
      expect(await db.authKeys.findById(k.id)).toEqual(k);
      expect((await db.authKeys.listByUser('u1'))[0]).toEqual(k);
      const changed = await db.authKeys.update(k.id, { rateLimitPerMinute: 5, allowedModels: ['gemini-2.5-flash'] });
      expect(changed).toMatchObject({ rateLimitPerMinute: 5, allowedModels: ['gemini-2.5-flash'] });
      const cleared = await db.authKeys.update(k.id, { rateLimitPerMinute: null, allowedModels: null });
      expect(cleared).toEqual({ ...k, rateLimitPerMinute: null, allowedModels: null });
      expect(await db.authKeys.findByHash(k.hash)).toEqual(cleared);
    });

    it('rotates: with grace the old hash still finds the key until the given time; without, at once not', async () => {
      const { db } = get();
      const k = await db.authKeys.create(authKeyRow('u1', { hash: 'h0', prefix: 'gg-0' }));
      const until = '2030-01-01T00:00:00.000Z';
      const r1 = await db.authKeys.rotate(k.id, { hash: 'h1', prefix: 'gg-1' }, until);
      expect(r1).toEqual({ ...k, hash: 'h1', prefix: 'gg-1', previousHash: 'h0', previousHashExpiresAt: until });
      expect(await db.authKeys.findByHash('h1')).toEqual(r1);
      expect(await db.authKeys.findByHash('h0')).toEqual(r1);
      // a second rotation with grace drops the oldest secret and keeps the one it replaces
      const r2 = await db.authKeys.rotate(k.id, { hash: 'h2', prefix: 'gg-2' }, until);
      expect(r2).toMatchObject({ hash: 'h2', previousHash: 'h1' });
      expect(await db.authKeys.findByHash('h0')).toBeNull();
      expect((await db.authKeys.findByHash('h1'))?.id).toBe(k.id);
      // no grace: only the new hash
      const r3 = await db.authKeys.rotate(k.id, { hash: 'h3', prefix: 'gg-3' }, null);
      expect(r3).toMatchObject({ hash: 'h3', previousHash: null, previousHashExpiresAt: null });
      for (const old of ['h0', 'h1', 'h2']) expect(await db.authKeys.findByHash(old)).toBeNull();
      expect(await db.authKeys.rotate('missing', { hash: 'hx', prefix: 'gg-x' }, null)).toBeNull();
      // a hash another key holds is refused
      await db.authKeys.create(authKeyRow('u2', { hash: 'taken' }));
      await expect(db.authKeys.rotate(k.id, { hash: 'taken', prefix: 'gg-t' }, null)).rejects.toBeInstanceOf(
        UniqueViolationError,
      );
    });

    it('deleting a key rotated with grace frees its previous hash too', async () => {
      const { db } = get();
      const k = await db.authKeys.create(authKeyRow('u1', { hash: 'p0' }));
      await db.authKeys.rotate(k.id, { hash: 'p1', prefix: 'gg-p1' }, '2030-01-01T00:00:00.000Z');
      expect(await db.authKeys.delete(k.id)).toBe(true);
      expect(await db.authKeys.findByHash('p0')).toBeNull();
      expect(await db.authKeys.findByHash('p1')).toBeNull();
      const other = await db.authKeys.create(authKeyRow('u1', { hash: 'q0' }));
      await db.authKeys.rotate(other.id, { hash: 'q1', prefix: 'gg-q1' }, '2030-01-01T00:00:00.000Z');
      expect(await db.authKeys.deleteByUser('u1')).toBe(1);
      expect(await db.authKeys.findByHash('q0')).toBeNull();
    });

    it('deletes one key, or every key of a user', async () => {
      const { db } = get();
      const a = await db.authKeys.create(authKeyRow('u1'));
      const b = await db.authKeys.create(authKeyRow('u1'));
      const c = await db.authKeys.create(authKeyRow('u1'));
      const other = await db.authKeys.create(authKeyRow('u2'));
      expect(await db.authKeys.delete(a.id)).toBe(true);
      expect(await db.authKeys.delete(a.id)).toBe(false);
      expect(await db.authKeys.findByHash(a.hash)).toBeNull();
      expect(await db.authKeys.deleteByUser('u1')).toBe(2);
      expect(await db.authKeys.deleteByUser('u1')).toBe(0);
      expect(await db.authKeys.listByUser('u1')).toEqual([]);
      expect(await db.authKeys.findById(b.id)).toBeNull();
      expect(await db.authKeys.findByHash(c.hash)).toBeNull();
      expect(await db.authKeys.findById(other.id)).toEqual(other);
    });
  });
}
