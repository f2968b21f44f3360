import { Logger } from '@nestjs/common';
import type { Caller } from '@gg/contracts';
import { DomainError, hashUserKey, verifyUserKeyChecksum } from '@gg/nest-common';
import { FakeDb, FakeEvents, testConfig } from '../testing/fakes';
import { KeysService } from './keys.service';

beforeAll(() => Logger.overrideLogger(false));

const alice: Caller = { userId: 'u-alice', role: 'user' };
const bob: Caller = { userId: 'u-bob', role: 'user' };
const root: Caller = { userId: 'u-root', role: 'admin' };

function setup() {
  const db = new FakeDb();
  const events = new FakeEvents();
  const config = testConfig();
  for (const c of [alice, bob, root]) {
    db.userRows.set(c.userId, {
      id: c.userId,
      username: c.userId,
      passwordHash: 'x',
      role: c.role,
      isActive: true,
      tokenVersion: 0,
      createdAt: new Date().toISOString(),
    });
  }
  return { db, events, config, keys: new KeysService(config, db, events.asService()) };
}

async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof DomainError) return `${e.code}: ${e.message}`;
    throw e;
  }
  return 'no error';
}

describe('KeysService', () => {
  it('creates a key: the secret is returned once, only its keyed hash is stored', async () => {
    const { db, config, keys } = setup();
    const created = await keys.create(alice, '  laptop  ');
    expect(verifyUserKeyChecksum(created.key)).toBe(true);
    expect(created).toMatchObject({ name: 'laptop', isActive: true, callCount: 0, expiresAt: null });
    expect(created.prefix).toBe(created.key.slice(0, 10));
    const row = db.keyRows.get(created.id)!;
    expect(row.hash).toBe(hashUserKey(created.key, config.keyHashSecret));
    expect(JSON.stringify(row)).not.toContain(created.key);

    const [listed] = await keys.list(alice);
    expect(listed).not.toHaveProperty('key');
    expect(listed).not.toHaveProperty('hash');
    expect(await keys.verify(row.hash)).toEqual({ id: created.id, userId: alice.userId, isActive: true, expiresAt: null });
  });

  it('validates the name and the expiry', async () => {
    const { keys } = setup();
    expect(await failure(keys.create(alice, '   '))).toBe('BAD_REQUEST: name must be 1-100 characters');
    expect(await failure(keys.create(alice, 'k', new Date(Date.now() - 1000).toISOString()))).toBe(
      'BAD_REQUEST: expiresAt must be in the future',
    );
    const later = new Date(Date.now() + 86_400_000);
    const k = await keys.create(alice, 'k', later.toISOString());
    expect(k.expiresAt).toBe(later.toISOString());
  });

  it("hides another user's keys (NOT_FOUND), lets admins manage any", async () => {
    const { keys } = setup();
    const k = await keys.create(alice, 'mine');
    const notFound = 'NOT_FOUND: key not found';
    expect(await failure(keys.update(bob, k.id, { name: 'stolen' }))).toBe(notFound);
    expect(await failure(keys.rotate(bob, k.id))).toBe(notFound);
    expect(await failure(keys.delete(bob, k.id))).toBe(notFound);
    expect(await failure(keys.update(bob, 'no-such-id', { name: 'x' }))).toBe(notFound);
    expect(await keys.list(bob)).toEqual([]);
    expect(await failure(keys.list(bob, alice.userId))).toMatch(/^FORBIDDEN: /);

    expect((await keys.list(root, alice.userId)).map((x) => x.id)).toEqual([k.id]);
    expect((await keys.update(root, k.id, { name: 'renamed by admin' })).name).toBe('renamed by admin');
  });

  it('tells the gateways when a key is deactivated, rotated or deleted, not when renamed', async () => {
    const { db, events, config, keys } = setup();
    const k = await keys.create(alice, 'k');
    const firstHash = db.keyRows.get(k.id)!.hash;

    await keys.update(alice, k.id, { name: 'renamed' });
    expect(events.keyChangedEvents).toEqual([]);

    const off = await keys.update(alice, k.id, { isActive: false });
    expect(off.isActive).toBe(false);
    expect(events.keyChangedEvents).toEqual([{ hashes: [firstHash] }]);
    expect((await keys.verify(firstHash))!.isActive).toBe(false);
    await keys.update(alice, k.id, { isActive: true });

    const rotated = await keys.rotate(alice, k.id);
    expect(rotated.id).toBe(k.id);
    expect(rotated.key).not.toBe(k.key);
    expect(await keys.verify(firstHash)).toBeNull();
    expect(await keys.verify(hashUserKey(rotated.key, config.keyHashSecret))).toMatchObject({ id: k.id, isActive: true });
    expect(events.keyChangedEvents.at(-1)).toEqual({ hashes: [firstHash] });

    const rotatedHash = db.keyRows.get(k.id)!.hash;
    await keys.delete(alice, k.id);
    expect(events.keyChangedEvents.at(-1)).toEqual({ hashes: [rotatedHash] });
    expect(await keys.verify(rotatedHash)).toBeNull();
  });

  it('verify: a key of an inactive user is inactive; expiry is epoch ms', async () => {
    const { db, config, keys } = setup();
    const later = new Date(Date.now() + 3_600_000);
    const k = await keys.create(alice, 'k', later.toISOString());
    const hash = hashUserKey(k.key, config.keyHashSecret);
    expect(await keys.verify(hash)).toEqual({ id: k.id, userId: alice.userId, isActive: true, expiresAt: later.getTime() });
    db.userRows.get(alice.userId)!.isActive = false;
    expect((await keys.verify(hash))!.isActive).toBe(false);
    expect(await keys.verify('0'.repeat(64))).toBeNull();
  });
});
