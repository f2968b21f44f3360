import { Logger } from '@nestjs/common';
import type { Caller } from '@gg/contracts';
import { createHash, randomBytes } from 'node:crypto';
import { checkUserKey, DomainError, hashUserKey } from '@gg/nest-common';
import { FakeDb, FakeEvents, testConfig } from '../testing/fakes';
import { KeysService } from './keys.service';
import { LegacyKeysService } from './legacy-keys.service';

beforeAll(() => Logger.overrideLogger(false));

const alice: Caller = { userId: 'u-alice', role: 'user', tokenVersion: 0 };
const bob: Caller = { userId: 'u-bob', role: 'user', tokenVersion: 0 };
const root: Caller = { userId: 'u-root', role: 'admin', tokenVersion: 0 };
const noLimits = { rateLimitPerMinute: null, allowedModels: null };

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
  const legacy = new LegacyKeysService(db);
  return { db, events, config, legacy, keys: new KeysService(config, db, events.asService(), legacy) };
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
    const created = await keys.create(alice, { name: '  laptop  ' });
    expect(created.key).toMatch(/^gg1-/);
    expect(checkUserKey(created.key, config.keyHashSecret)).toBe('v1');
    expect(created).toMatchObject({ name: 'laptop', isActive: true, callCount: 0, expiresAt: null });
    expect(created.prefix).toBe(created.key.slice(0, 10));
    const row = db.keyRows.get(created.id)!;
    expect(row.hash).toBe(hashUserKey(created.key, config.keyHashSecret));
    expect(JSON.stringify(row)).not.toContain(created.key);

    const [listed] = await keys.list(alice);
    expect(listed).not.toHaveProperty('key');
    expect(listed).not.toHaveProperty('hash');
    expect(await keys.verify(row.hash)).toEqual({
      id: created.id,
      userId: alice.userId,
      isActive: true,
      expiresAt: null,
      ...noLimits,
    });
  });

  it('validates the name and the expiry', async () => {
    const { keys } = setup();
    expect(await failure(keys.create(alice, { name: '   ' }))).toBe('BAD_REQUEST: name must be 1-100 characters');
    expect(await failure(keys.create(alice, { name: 'k', expiresAt: new Date(Date.now() - 1000).toISOString() }))).toBe(
      'BAD_REQUEST: expiresAt must be in the future',
    );
    const later = new Date(Date.now() + 86_400_000);
    const k = await keys.create(alice, { name: 'k', expiresAt: later.toISOString() });
    expect(k.expiresAt).toBe(later.toISOString());
  });

  it("hides another user's keys (NOT_FOUND), lets admins manage any", async () => {
    const { keys } = setup();
    const k = await keys.create(alice, { name: 'mine' });
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
    const k = await keys.create(alice, { name: 'k' });
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
    expect(await keys.verify(hashUserKey(rotated.key, config.keyHashSecret))).toMatchObject({
      id: k.id,
      isActive: true,
    });
    expect(events.keyChangedEvents.at(-1)).toEqual({ hashes: [firstHash] });

    const rotatedHash = db.keyRows.get(k.id)!.hash;
    await keys.delete(alice, k.id);
    expect(events.keyChangedEvents.at(-1)).toEqual({ hashes: [rotatedHash] });
    expect(await keys.verify(rotatedHash)).toBeNull();
  });

  it('verify: a key of an inactive user is inactive; expiry is epoch ms', async () => {
    const { db, config, keys } = setup();
    const later = new Date(Date.now() + 3_600_000);
    const k = await keys.create(alice, { name: 'k', expiresAt: later.toISOString() });
    const hash = hashUserKey(k.key, config.keyHashSecret);
    expect(await keys.verify(hash)).toEqual({
      id: k.id,
      userId: alice.userId,
      isActive: true,
      expiresAt: later.getTime(),
      ...noLimits,
    });
    db.userRows.get(alice.userId)!.isActive = false;
    expect((await keys.verify(hash))!.isActive).toBe(false);
    expect(await keys.verify('0'.repeat(64))).toBeNull();
  });

  it('keeps per-key limits, normalises the allow-list, refuses bad ones, and tells the gateways of changes', async () => {
    const { db, events, config, keys } = setup();
    const k = await keys.create(alice, {
      name: 'limited',
      rateLimitPerMinute: 30,
      allowedModels: ['models/gemini-2.5-flash', 'gemini-2.5-flash', ' gemini-2.5-pro* '],
    });
    expect(k).toMatchObject({ rateLimitPerMinute: 30, allowedModels: ['gemini-2.5-flash', 'gemini-2.5-pro*'] });
    const hash = hashUserKey(k.key, config.keyHashSecret);
    expect(await keys.verify(hash)).toMatchObject({
      rateLimitPerMinute: 30,
      allowedModels: ['gemini-2.5-flash', 'gemini-2.5-pro*'],
    });
    expect(await failure(keys.create(alice, { name: 'x', allowedModels: [] }))).toMatch(
      /^BAD_REQUEST: allowedModels must list/,
    );
    expect(await failure(keys.create(alice, { name: 'x', allowedModels: ['../etc'] }))).toMatch(
      /^BAD_REQUEST: allowedModels: /,
    );
    expect(await failure(keys.create(alice, { name: 'x', rateLimitPerMinute: 0 }))).toMatch(
      /^BAD_REQUEST: rateLimitPerMinute/,
    );

    await keys.update(alice, k.id, { name: 'renamed' });
    expect(events.keyChangedEvents).toEqual([]);
    const cleared = await keys.update(alice, k.id, { rateLimitPerMinute: null, allowedModels: null });
    expect(cleared).toMatchObject({ rateLimitPerMinute: null, allowedModels: null });
    expect(events.keyChangedEvents).toEqual([{ hashes: [hash] }]);
    expect(db.keyRows.get(k.id)).toMatchObject({ rateLimitPerMinute: null, allowedModels: null });
    const later = new Date(Date.now() + 60_000).toISOString();
    expect((await keys.update(alice, k.id, { expiresAt: later })).expiresAt).toBe(later);
    expect(events.keyChangedEvents).toHaveLength(2);
  });

  it('rotates with a grace period: the old secret works until then, with expiresAt at its end; 0 ends it at once', async () => {
    const { events, config, keys } = setup();
    const k = await keys.create(alice, { name: 'rotating', rateLimitPerMinute: 5 });
    const oldHash = hashUserKey(k.key, config.keyHashSecret);
    const t0 = Date.now();
    const r1 = await keys.rotate(alice, k.id, 600);
    const newHash = hashUserKey(r1.key, config.keyHashSecret);
    expect(r1.key).not.toBe(k.key);
    expect(Date.parse(r1.previousKeyExpiresAt!)).toBeGreaterThanOrEqual(t0 + 600_000);
    const old = await keys.verify(oldHash);
    expect(old).toMatchObject({ id: k.id, isActive: true, rateLimitPerMinute: 5 });
    expect(old!.expiresAt).toBe(Date.parse(r1.previousKeyExpiresAt!));
    expect(await keys.verify(newHash)).toMatchObject({ id: k.id, expiresAt: null });
    expect(events.keyChangedEvents.at(-1)).toEqual({ hashes: [oldHash] });
    // after the grace end the old secret is unknown
    expect(await keys.verify(oldHash, t0 + 601_000)).toBeNull();
    // rotating again without grace: the previous secret and the one replaced both stop, and both are announced
    const r2 = await keys.rotate(alice, k.id, 0);
    expect(r2.previousKeyExpiresAt).toBeNull();
    expect(await keys.verify(oldHash)).toBeNull();
    expect(await keys.verify(newHash)).toBeNull();
    expect(await keys.verify(hashUserKey(r2.key, config.keyHashSecret))).toMatchObject({ id: k.id });
    expect(events.keyChangedEvents.at(-1)).toEqual({ hashes: [newHash, oldHash] });
    expect(await failure(keys.rotate(alice, k.id, -1))).toMatch(/^BAD_REQUEST: graceSeconds/);
  });

  it("a grace period never outlives the key's own expiry", async () => {
    const { config, keys } = setup();
    const soon = new Date(Date.now() + 60_000);
    const k = await keys.create(alice, { name: 'short', expiresAt: soon.toISOString() });
    await keys.rotate(alice, k.id, 3600);
    expect((await keys.verify(hashUserKey(k.key, config.keyHashSecret)))!.expiresAt).toBe(soon.getTime());
  });

  it('issues only the current format on rotation; legacy keys are counted until rotated or deleted', async () => {
    const { db, config, keys, legacy } = setup();
    const fresh = await keys.create(alice, { name: 'new' });
    expect(await legacy.count()).toBe(0);
    // two keys made by the old code: `gg-` + body + plain SHA-256 checksum
    const old = [0, 1].map((i) => {
      const body = randomBytes(32).toString('base64url');
      const key = `gg-${body}${createHash('sha256').update(body).digest().subarray(0, 4).toString('base64url')}`;
      db.keyRows.set(`old-${i}`, {
        ...db.keyRows.get(fresh.id)!,
        id: `old-${i}`,
        prefix: key.slice(0, 10),
        hash: hashUserKey(key, config.keyHashSecret),
      });
      return key;
    });
    expect(checkUserKey(old[0], config.keyHashSecret)).toBe('legacy');
    expect(await legacy.count()).toBe(0); // reused for a while...
    legacy.changed();
    expect(await legacy.count()).toBe(2); // ...until something changes
    expect(await keys.verify(hashUserKey(old[0], config.keyHashSecret))).toMatchObject({ id: 'old-0', isActive: true });

    const rotated = await keys.rotate(alice, 'old-0');
    expect(checkUserKey(rotated.key, config.keyHashSecret)).toBe('v1');
    expect(await legacy.count()).toBe(1);
    await keys.rotate(alice, 'old-1', 60); // the old secret keeps working during the grace: still counted
    expect(await legacy.count()).toBe(1);
    await keys.rotate(alice, 'old-1', 0);
    expect(await legacy.count()).toBe(0);
  });
});
