import { request } from 'node:http';
import type { AuditEntry, AuthKeyWithSecret, Me, Page, User, AddPoolKeysResult } from '@gg/contracts';
import { startMockGemini, Stack, type MockGemini } from '@gg/testing';
import { createKey, loginSession } from './accounts-helpers';
import { fakeGeminiKey, maskOf } from './helpers';

jest.setTimeout(120_000);

/** The one address TRUSTED_PROXIES lists (all of 127.0.0.0/8 is this host), and the client behind it. */
const PROXY = '127.0.0.2';
const CLIENT = '203.0.113.9';

interface Answer {
  status: number;
  contentType: string;
  text: string;
}

/** An admin API call from a chosen local address, optionally with X-Forwarded-For. */
function call(
  stack: Stack,
  token: string,
  method: string,
  path: string,
  opts: { body?: unknown; from?: string; xff?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    if (opts.xff) headers['x-forwarded-for'] = opts.xff;
    const req = request(
      `${stack.adminUrl}${path}`,
      { method, localAddress: opts.from ?? '127.0.0.1', headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type'] ?? ''),
            text: Buffer.concat(chunks).toString(),
          }),
        );
      },
    );
    req.on('error', reject);
    if (opts.body !== undefined) req.write(JSON.stringify(opts.body));
    req.end();
  });
}

/**
 * The audit log (issue 17, part 4) against the real stack, on both databases: each audited admin action of the
 * test gives exactly one entry, newest first, with the actor, the client's address (X-Forwarded-For believed from
 * the trusted proxy only) and the target; no secret anywhere in the answers or the export; admins only; paging.
 */
describe.each(['sqlite', 'redis'] as const)('audit log (%s)', (databaseType) => {
  let mock: MockGemini;
  let stack: Stack;
  let admin: string;
  let adminMe: Me;

  /** an admin action through the trusted proxy, for CLIENT; its JSON answer */
  const act = async <T>(method: string, path: string, body?: unknown, status?: number): Promise<T> => {
    const r = await call(stack, admin, method, path, { body, from: PROXY, xff: CLIENT });
    if (status !== undefined) expect({ path, status: r.status }).toEqual({ path, status });
    else expect({ path, ok: r.status < 300 }).toEqual({ path, ok: true });
    return (r.text ? JSON.parse(r.text) : null) as T;
  };
  const audit = async (token: string, query = ''): Promise<Page<AuditEntry>> => {
    const r = await call(stack, token, 'GET', `/api/audit${query}`);
    expect(r.status).toBe(200);
    return JSON.parse(r.text) as Page<AuditEntry>;
  };

  beforeAll(async () => {
    mock = await startMockGemini();
    stack = await Stack.start({ geminiBaseUrl: mock.url, databaseType, env: { TRUSTED_PROXIES: PROXY } });
    admin = await stack.login();
    adminMe = (await stack.api<Me>(admin, 'GET', '/api/auth/me')).body;
  });

  afterAll(async () => {
    await stack?.stop();
    await mock?.close();
  });

  it('records each admin action once, newest first, with actor, address and target, and never a secret', async () => {
    const poolSecret = fakeGeminiKey();
    const bobPassword = 'bob-first-password-1';
    const bobNewPassword = 'bob-second-password-2';
    const carolPassword = 'carol-password-3';
    const expected: { action: string; targetId: string | null; targetName?: string | null }[] = [];

    // pool keys
    const added = await act<AddPoolKeysResult>('POST', '/api/keys', { keys: [poolSecret] }, 201);
    const poolKey = added.added[0];
    expect(poolKey).toBeDefined();
    const poolId = poolKey?.id ?? '';
    expected.push({ action: 'pool-key.add', targetId: poolId, targetName: maskOf(poolSecret) });
    await act('POST', `/api/keys/${poolId}/check`, undefined, 200);
    expected.push({ action: 'pool-key.check', targetId: poolId, targetName: maskOf(poolSecret) });
    await act('POST', `/api/keys/${poolId}/reset`, undefined, 200);
    expected.push({ action: 'pool-key.reset', targetId: poolId, targetName: maskOf(poolSecret) });
    await act('POST', '/api/keys/reset', undefined, 200);
    expected.push({ action: 'pool.reset-all', targetId: null });

    // users
    const bob = await act<User>(
      'POST',
      '/api/users',
      { username: 'audit-bob', password: bobPassword, role: 'user' },
      201,
    );
    expected.push({ action: 'user.create', targetId: bob.id, targetName: 'audit-bob' });
    const carol = await act<User>(
      'POST',
      '/api/users',
      { username: 'audit-carol', password: carolPassword, role: 'user' },
      201,
    );
    expected.push({ action: 'user.create', targetId: carol.id, targetName: 'audit-carol' });

    // another user's key: bob creates it (not an admin action), the admin changes, rotates and deletes it
    const bobSession = await loginSession(stack, 'audit-bob', bobPassword);
    const bobKey = await createKey(stack, bobSession.token, { name: 'bob-key' });
    await act('PATCH', `/api/auth-keys/${bobKey.id}`, { name: 'bob-renamed', rateLimitPerMinute: 10 }, 200);
    expected.push({ action: 'user-key.update', targetId: bobKey.id, targetName: 'bob-renamed' });
    const rotated = await act<AuthKeyWithSecret>('POST', `/api/auth-keys/${bobKey.id}/rotate`, {}, 200);
    expected.push({ action: 'user-key.rotate', targetId: bobKey.id, targetName: 'bob-renamed' });
    await act('DELETE', `/api/auth-keys/${bobKey.id}`, undefined, 204);
    expected.push({ action: 'user-key.delete', targetId: bobKey.id });

    // the admin's own key is not an admin action on someone else's: not audited
    const ownKey = await createKey(stack, admin, { name: 'admin-own' });
    await act('PATCH', `/api/auth-keys/${ownKey.id}`, { name: 'admin-own-2' }, 200);

    // a password reset and deactivation (ends bob's sessions), then deletions
    await act('PATCH', `/api/users/${bob.id}`, { password: bobNewPassword, isActive: false }, 200);
    expected.push({ action: 'user.update', targetId: bob.id, targetName: 'audit-bob' });
    await act('DELETE', `/api/users/${bob.id}`, undefined, 204);
    expected.push({ action: 'user.delete', targetId: bob.id, targetName: 'audit-bob' });
    await act('DELETE', `/api/keys/${poolId}`, undefined, 204);
    expected.push({ action: 'pool-key.delete', targetId: poolId, targetName: maskOf(poolSecret) });

    // X-Forwarded-For from a client that is not a trusted proxy is not believed
    const direct = await call(stack, admin, 'POST', '/api/keys/reset', { xff: '198.51.100.66' });
    expect(direct.status).toBe(200);

    const page = await audit(admin, '?limit=500');
    expect(page.nextCursor).toBeNull();
    const [spoofed, ...rest] = page.items;
    expect(spoofed).toMatchObject({ action: 'pool.reset-all', address: '127.0.0.1', actorId: adminMe.id });
    expect(rest.map((e) => ({ action: e.action, targetId: e.targetId }))).toEqual(
      [...expected].reverse().map((e) => ({ action: e.action, targetId: e.targetId })),
    );
    for (const [i, want] of [...expected].reverse().entries()) {
      const got = rest[i] as AuditEntry;
      expect(got).toMatchObject({ actorId: adminMe.id, actorName: stack.adminUsername, address: CLIENT });
      if (want.targetName !== undefined) expect(got.targetName).toBe(want.targetName);
      expect(Date.parse(got.at)).not.toBeNaN();
    }
    const byAction = (a: string) => rest.filter((e) => e.action === a);
    expect(byAction('user.update')[0]?.changes).toEqual({ password: '(changed)', isActive: false });
    expect(byAction('user-key.update')[0]?.changes).toEqual({ name: 'bob-renamed', rateLimitPerMinute: 10 });
    expect(byAction('pool-key.add')[0]?.changes).toMatchObject({
      added: 1,
      ids: [poolId],
      masked: [maskOf(poolSecret)],
    });
    expect(rest.filter((e) => e.targetId === ownKey.id)).toEqual([]);

    // filters
    expect((await audit(admin, '?action=user.update')).items.map((e) => e.targetId)).toEqual([bob.id]);
    expect((await audit(admin, `?targetId=${bob.id}`)).items.map((e) => e.action)).toEqual([
      'user.delete',
      'user.update',
      'user.create',
    ]);
    expect((await audit(admin, `?actor=${adminMe.id}`)).items).toHaveLength(page.items.length);
    expect((await audit(admin, '?actor=nobody-at-all')).items).toEqual([]);
    const since = (page.items[2] as AuditEntry).at;
    expect((await audit(admin, `?since=${encodeURIComponent(since)}`)).items.length).toBeGreaterThanOrEqual(3);
    expect((await call(stack, admin, 'GET', '/api/audit?action=not.an-action')).status).toBe(400);
    expect((await call(stack, admin, 'GET', '/api/audit?since=yesterday')).status).toBe(400);
    expect((await call(stack, admin, 'GET', '/api/audit?limit=0')).status).toBe(400);

    // paging: pages of 4 give the same entries, in the same order, without duplicates
    const paged: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const p: Page<AuditEntry> = await audit(
        admin,
        `?limit=4${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(p.items.length).toBeLessThanOrEqual(4);
      paged.push(...p.items.map((e) => e.id));
      cursor = p.nextCursor;
      pages++;
    } while (cursor && pages < 50);
    expect(paged).toEqual(page.items.map((e) => e.id));
    expect(pages).toBe(Math.ceil(page.items.length / 4));

    // the export: JSON lines, the same entries, the same filters
    const exported = await call(stack, admin, 'GET', '/api/audit/export');
    expect(exported.status).toBe(200);
    expect(exported.contentType).toMatch(/^application\/x-ndjson/);
    const lines = exported.text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as AuditEntry);
    expect(lines).toEqual(page.items);
    const exportedFiltered = await call(stack, admin, 'GET', `/api/audit/export?targetId=${poolId}`);
    expect(
      exportedFiltered.text
        .trimEnd()
        .split('\n')
        .map((l) => (JSON.parse(l) as AuditEntry).action),
    ).toEqual(['pool-key.delete', 'pool-key.reset', 'pool-key.check', 'pool-key.add']);

    // no secret anywhere
    const everything = [JSON.stringify(page), exported.text, exportedFiltered.text].join('\n');
    for (const secret of [poolSecret, bobPassword, bobNewPassword, carolPassword, bobKey.key, rotated.key, admin]) {
      expect(everything.includes(secret)).toBe(false);
    }

    // not for non-admins
    const carolToken = (await loginSession(stack, 'audit-carol', carolPassword)).token;
    expect((await call(stack, carolToken, 'GET', '/api/audit')).status).toBe(403);
    expect((await call(stack, carolToken, 'GET', '/api/audit/export')).status).toBe(403);
    expect((await call(stack, 'not-a-token', 'GET', '/api/audit')).status).toBe(401);
  });
});
