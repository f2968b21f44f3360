import { Logger } from '@nestjs/common';
import { DomainError } from '@gg/nest-common';
import { PasswordService } from '../common/password.service';
import { FakeDb, FakeEvents, testConfig } from '../testing/fakes';
import { FirstAdminService } from './first-admin.service';
import { UsersService } from './users.service';

function setup() {
  const db = new FakeDb();
  const events = new FakeEvents();
  const config = testConfig();
  const passwords = new PasswordService(config);
  const users = new UsersService(db, passwords, events.asService());
  return { db, events, config, passwords, users };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof DomainError) return `${e.code}: ${e.message}`;
    throw e;
  }
  return 'no error';
}

beforeAll(() => Logger.overrideLogger(false));

describe('UsersService', () => {
  it('creates a user with a bcrypt hash and refuses a taken username', async () => {
    const { db, users, passwords } = setup();
    const u = await users.create({ username: 'alice', password: 'correct horse', role: 'user' });
    expect(u).toEqual({ id: u.id, username: 'alice', role: 'user', isActive: true, createdAt: expect.any(String) });
    expect(u).not.toHaveProperty('passwordHash');
    const row = db.userRows.get(u.id)!;
    expect(row.passwordHash).toMatch(/^\$2[aby]\$04\$/);
    expect(await passwords.verify('correct horse', row.passwordHash)).toBe(true);
    expect(await codeOf(users.create({ username: 'alice', password: 'another one', role: 'user' }))).toBe(
      'CONFLICT: username already taken',
    );
  });

  it('refuses passwords under 8 characters or over 72 bytes with a clear message', async () => {
    const { users } = setup();
    expect(await codeOf(users.create({ username: 'bob', password: 'short', role: 'user' }))).toBe(
      'BAD_REQUEST: password must be at least 8 characters',
    );
    // 25 three-byte characters: 25 characters but 75 bytes
    expect(await codeOf(users.create({ username: 'bob', password: '€'.repeat(25), role: 'user' }))).toMatch(
      /^BAD_REQUEST: password must be at most 72 bytes/,
    );
  });

  it('never demotes, deactivates or deletes the last active admin', async () => {
    const { users } = setup();
    const admin = await users.create({ username: 'root', password: 'root-password', role: 'admin' });
    const expected = expect.stringMatching(/^CONFLICT: the last active admin cannot be/);
    expect(await codeOf(users.update(admin.id, { role: 'user' }))).toEqual(expected);
    expect(await codeOf(users.update(admin.id, { isActive: false }))).toEqual(expected);
    expect(await codeOf(users.delete(admin.id))).toEqual(expected);

    // an inactive admin does not count as a second admin
    const dormant = await users.create({ username: 'dormant', password: 'dormant-pass', role: 'admin' });
    await users.update(dormant.id, { isActive: false });
    expect(await codeOf(users.update(admin.id, { role: 'user' }))).toEqual(expected);

    await users.update(dormant.id, { isActive: true });
    expect((await users.update(admin.id, { role: 'user' })).role).toBe('user');
  });

  it('two concurrent demotions of the last two admins leave one admin', async () => {
    const { users } = setup();
    const a = await users.create({ username: 'admin-a', password: 'password-a', role: 'admin' });
    const b = await users.create({ username: 'admin-b', password: 'password-b', role: 'admin' });
    const results = await Promise.allSettled([
      users.update(a.id, { role: 'user' }),
      users.update(b.id, { role: 'user' }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect((await users.list()).filter((u) => u.role === 'admin')).toHaveLength(1);
  });

  it('deactivating a user ends their sessions and tells the gateways about all their keys', async () => {
    const { db, events, users } = setup();
    await users.create({ username: 'root', password: 'root-password', role: 'admin' });
    const u = await users.create({ username: 'carol', password: 'carol-password', role: 'user' });
    db.keyRows.set('k1', { ...keyRow('k1', u.id), hash: 'h1' });
    db.keyRows.set('k2', { ...keyRow('k2', u.id), hash: 'h2' });

    const updated = await users.update(u.id, { isActive: false });
    expect(updated.isActive).toBe(false);
    expect(db.userRows.get(u.id)!.tokenVersion).toBe(1);
    expect(events.keyChangedEvents).toEqual([{ hashes: ['h1', 'h2'] }]);
  });

  it('deleting a user deletes their keys and tells the gateways', async () => {
    const { db, events, users } = setup();
    await users.create({ username: 'root', password: 'root-password', role: 'admin' });
    const u = await users.create({ username: 'dave', password: 'dave-password', role: 'user' });
    db.keyRows.set('k1', { ...keyRow('k1', u.id), hash: 'h1' });

    expect(await users.delete(u.id)).toBeNull();
    expect(db.userRows.has(u.id)).toBe(false);
    expect(db.keyRows.size).toBe(0);
    expect(events.keyChangedEvents).toEqual([{ hashes: ['h1'] }]);
    expect(await codeOf(users.delete(u.id))).toBe('NOT_FOUND: user not found');
  });

  it('changes the password only with the right current one, and ends the other sessions', async () => {
    const { db, passwords, users } = setup();
    const u = await users.create({ username: 'erin', password: 'old-password', role: 'user' });
    const caller = { userId: u.id, role: 'user' as const, tokenVersion: 0 };
    expect(await codeOf(users.changePassword(caller, 'wrong-password', 'new-password'))).toBe(
      'BAD_REQUEST: current password is wrong',
    );
    await users.changePassword(caller, 'old-password', 'new-password');
    const row = db.userRows.get(u.id)!;
    expect(await passwords.verify('new-password', row.passwordHash)).toBe(true);
    expect(await passwords.verify('old-password', row.passwordHash)).toBe(false);
    expect(row.tokenVersion).toBe(1);
    expect(await users.me(caller)).toEqual({ id: u.id, username: 'erin', role: 'user' });
  });
});

describe('FirstAdminService', () => {
  it('creates the first admin with a generated password printed once, and nothing on later starts', async () => {
    const { db, config, passwords, users } = setup();
    const out: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    });
    try {
      const first = new FirstAdminService(config, db, users);
      await first.onApplicationBootstrap();
      await first.onApplicationBootstrap();
    } finally {
      spy.mockRestore();
    }
    const lines = out
      .join('')
      .split('\n')
      .filter((l) => l.includes('First admin created'));
    expect(lines).toHaveLength(1);
    const password = /password=(\S+)/.exec(lines[0])![1];
    expect(password.length).toBeGreaterThanOrEqual(20);
    const [admin] = [...db.userRows.values()];
    expect(db.userRows.size).toBe(1);
    expect(admin).toMatchObject({ username: 'admin', role: 'admin', isActive: true });
    expect(await passwords.verify(password, admin.passwordHash)).toBe(true);
  });

  it('uses ADMIN_PASSWORD when given and prints no secret', async () => {
    const { db, passwords } = setup();
    const config = testConfig({ adminUsername: 'boss', adminPassword: 'given-password' });
    const users = new UsersService(db, passwords, new FakeEvents().asService());
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      await new FirstAdminService(config, db, users).onApplicationBootstrap();
      expect(spy.mock.calls.map((c) => String(c[0])).join('')).not.toContain('given-password');
    } finally {
      spy.mockRestore();
    }
    const admin = await db.users.findByUsername('boss');
    expect(await passwords.verify('given-password', admin!.passwordHash)).toBe(true);
  });
});

function keyRow(id: string, userId: string) {
  return {
    id,
    userId,
    name: id,
    prefix: 'gg-xxxxxxx',
    hash: `hash-${id}`,
    isActive: true,
    callCount: 0,
    promptTokens: 0,
    outputTokens: 0,
    createdAt: new Date().toISOString(),
    lastUsedAt: null,
    expiresAt: null,
    rateLimitPerMinute: null,
    allowedModels: null,
    previousHash: null,
    previousHashExpiresAt: null,
  };
}
