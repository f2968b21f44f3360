import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AuthKey, Me, Page, RequestLog, User } from '@gg/contracts';
import { startMockGemini, Stack, type MockGemini } from '@gg/testing';
import jwt from 'jsonwebtoken';
import { createKey, createUser, generate, loginSession } from './accounts-helpers';
import { fakeGeminiKey, poll } from './helpers';

jest.setTimeout(60_000);

/** Users, roles, login hardening, sessions and object-level authorization, against the real stack. */
describe('accounts: users, sessions and object-level authorization', () => {
  let mock: MockGemini;
  let stack: Stack;
  let admin: string;
  let adminMe: Me;
  const pw = (name: string) => `${name}-password-1`;

  const refresh = (cookie?: string) =>
    fetch(`${stack.adminUrl}/api/auth/refresh`, { method: 'POST', headers: cookie ? { cookie } : {} });
  const me = (token: string) =>
    fetch(`${stack.adminUrl}/api/auth/me`, { headers: { authorization: `Bearer ${token}` } });

  beforeAll(async () => {
    mock = await startMockGemini();
    stack = await Stack.start({ geminiBaseUrl: mock.url });
    admin = await stack.login();
    adminMe = (await stack.api<Me>(admin, 'GET', '/api/auth/me')).body;
    expect((await stack.api(admin, 'POST', '/api/keys', { keys: [fakeGeminiKey()] })).status).toBe(201);
    await stack.gatewayReady();
  });

  afterAll(async () => {
    await stack?.stop();
    await mock?.close();
  });

  it('admins create, edit, deactivate and delete users; users may not; the last active admin stays', async () => {
    const alice = await createUser(stack, admin, 'u-alice', pw('alice'));
    expect(alice).toMatchObject({ username: 'u-alice', role: 'user', isActive: true });
    expect(alice).not.toHaveProperty('passwordHash');
    const user = (await loginSession(stack, 'u-alice', pw('alice'))).token;
    expect((await stack.api(user, 'GET', '/api/users')).status).toBe(403);
    expect(
      (await stack.api(user, 'POST', '/api/users', { username: 'x-mallory', password: pw('m'), role: 'admin' })).status,
    ).toBe(403);

    const promoted = await stack.api<User>(admin, 'PATCH', `/api/users/${alice.id}`, { role: 'admin' });
    expect(promoted).toMatchObject({ status: 200, body: { role: 'admin' } });
    expect((await stack.api(admin, 'PATCH', `/api/users/${alice.id}`, { role: 'user' })).status).toBe(200);

    // bcrypt reads 72 bytes: a longer password is refused with a clear message, never silently truncated
    const long = await stack.api<{ message: string }>(admin, 'POST', '/api/users', {
      username: 'u-long',
      password: '€'.repeat(25),
      role: 'user',
    });
    expect(long.status).toBe(400);
    expect(long.body.message).toMatch(/at most 72 bytes/);

    // the only active admin cannot be deleted, deactivated or demoted
    for (const [method, body] of [
      ['DELETE', undefined],
      ['PATCH', { isActive: false }],
      ['PATCH', { role: 'user' }],
    ] as const) {
      const r = await stack.api<{ message: string }>(admin, method, `/api/users/${adminMe.id}`, body);
      expect(r.status).toBe(409);
      expect(r.body.message).toMatch(/last active admin/);
    }

    const carol = await createUser(stack, admin, 'u-carol', pw('carol'));
    expect((await stack.api(admin, 'PATCH', `/api/users/${carol.id}`, { isActive: false })).body).toMatchObject({
      isActive: false,
    });
    expect((await stack.api(admin, 'DELETE', `/api/users/${carol.id}`)).status).toBe(204);
    expect((await stack.api<User[]>(admin, 'GET', '/api/users')).body.map((u) => u.username)).not.toContain('u-carol');
    expect((await stack.api(admin, 'DELETE', `/api/users/${carol.id}`)).status).toBe(404);
  });

  it('refuses forged, alg:none, tampered, expired and foreign tokens with 401 on every kind of route', async () => {
    const secret = readFileSync(join(stack.dataDir, 'jwt-secret'), 'utf8').trim();
    const { token } = await loginSession(stack, 'u-alice', pw('alice'));
    const claims = jwt.decode(token) as { sub: string; username: string; role: string; tv: number; sid: string };
    const base = { sub: claims.sub, username: claims.username, role: claims.role, tv: claims.tv, sid: claims.sid };
    const opts = { issuer: 'gemini-gateway', audience: 'gemini-gateway-admin', expiresIn: 600 };
    const [head, , sig] = token.split('.');
    const escalated = Buffer.from(JSON.stringify({ ...(jwt.decode(token) as object), role: 'admin' })).toString(
      'base64url',
    );
    const cases: Record<string, string> = {
      forged: jwt.sign(base, 'a-secret-that-is-not-the-gateways-own-0123456789', { ...opts, algorithm: 'HS256' }),
      'alg none': jwt.sign({ ...base, role: 'admin' }, '', { ...opts, algorithm: 'none' }),
      'tampered payload': `${head}.${escalated}.${sig}`,
      expired: jwt.sign({ ...base, iat: Math.floor(Date.now() / 1000) - 3600 }, secret, {
        issuer: opts.issuer,
        audience: opts.audience,
        expiresIn: 60,
        algorithm: 'HS256',
      }),
      'another audience': jwt.sign(base, secret, { ...opts, audience: 'someone-else', algorithm: 'HS256' }),
      HS512: jwt.sign(base, secret, { ...opts, algorithm: 'HS512' }),
    };
    for (const [name, bad] of Object.entries(cases)) {
      for (const path of ['/api/auth/me', '/api/auth-keys', '/api/keys', '/api/logs']) {
        const r = await stack.api(bad, 'GET', path);
        expect({ name, path, status: r.status }).toEqual({ name, path, status: 401 });
      }
    }
    // the genuine article passes: the cases fail for their flaw, not for their shape
    expect((await me(jwt.sign(base, secret, { ...opts, algorithm: 'HS256' }))).status).toBe(200);
    expect((await me(token)).status).toBe(200);
  });

  it('refresh rotates on every use; a replayed refresh token revokes the whole family; logout revokes', async () => {
    const s = await loginSession(stack, 'u-alice', pw('alice'));
    const login = await fetch(`${stack.adminUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'u-alice', password: pw('alice') }),
    });
    const setCookie = login.headers.getSetCookie()[0];
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(((await login.json()) as { expires_in: number }).expires_in).toBe(900);

    const first = await refresh(s.cookie);
    expect(first.status).toBe(200);
    const next = first.headers.getSetCookie()[0].split(';')[0];
    expect(next).not.toBe(s.cookie);
    // the old token comes back (stolen copy): refused, and the legitimate newest one dies with its family
    expect((await refresh(s.cookie)).status).toBe(401);
    expect((await refresh(next)).status).toBe(401);

    const other = await loginSession(stack, 'u-alice', pw('alice'));
    const out = await fetch(`${stack.adminUrl}/api/auth/logout`, { method: 'POST', headers: { cookie: other.cookie } });
    expect(out.status).toBe(204);
    expect((await refresh(other.cookie)).status).toBe(401);
  });

  it('a password change or a deactivation ends every session at once, old access tokens included', async () => {
    await createUser(stack, admin, 'u-dave', pw('dave'));
    const d1 = await loginSession(stack, 'u-dave', pw('dave'));
    const d2 = await loginSession(stack, 'u-dave', pw('dave'));
    const changed = await stack.api(d1.token, 'PATCH', '/api/auth/me/password', {
      currentPassword: pw('dave'),
      newPassword: pw('dave2'),
    });
    expect(changed.status).toBe(204);
    for (const t of [d1.token, d2.token]) {
      expect((await stack.api(t, 'GET', '/api/auth-keys')).status).toBe(401);
      expect((await me(t)).status).toBe(401);
    }
    expect((await refresh(d2.cookie)).status).toBe(401);
    expect((await loginSession(stack, 'u-dave', pw('dave2'))).token).toBeTruthy();

    // a second admin, deactivated: even the routes that never reach auth (pool keys, log stream) refuse the token
    const ops = await createUser(stack, admin, 'u-ops', pw('ops'), 'admin');
    const o = await loginSession(stack, 'u-ops', pw('ops'));
    expect((await stack.api(o.token, 'GET', '/api/keys')).status).toBe(200);
    expect((await stack.api(admin, 'PATCH', `/api/users/${ops.id}`, { isActive: false })).status).toBe(200);
    expect((await stack.api(o.token, 'GET', '/api/keys')).status).toBe(401);
    expect((await stack.api(o.token, 'POST', '/api/keys', { keys: [fakeGeminiKey()] })).status).toBe(401);
    expect((await fetch(`${stack.adminUrl}/api/logs/stream?access_token=${o.token}`)).status).toBe(401);
    expect((await refresh(o.cookie)).status).toBe(401);
  });

  it('throttles failed logins per username and IP: 429 with Retry-After, even for the right password', async () => {
    await createUser(stack, admin, 'u-eve', pw('eve'));
    const attempt = (username: string, password: string) =>
      fetch(`${stack.adminUrl}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password }),
      });
    for (let i = 0; i < 10; i++) expect((await attempt('u-eve', 'not-her-password')).status).toBe(401);
    const blocked = await attempt('u-eve', pw('eve'));
    expect(blocked.status).toBe(429);
    const retryAfter = Number(blocked.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(800);
    expect(retryAfter).toBeLessThanOrEqual(900);
    expect(((await blocked.json()) as { message: string }).message).toMatch(/too many failed logins/);
    // others from the same address are not locked out by her counter
    expect((await attempt('u-alice', pw('alice'))).status).toBe(200);
  });

  it("user B gets 404 for user A's keys, nothing of A's logs, and 403 on the pool and the user list", async () => {
    const alice = (await loginSession(stack, 'u-alice', pw('alice'))).token;
    const aliceId = (await stack.api<Me>(alice, 'GET', '/api/auth/me')).body.id;
    const ka = await createKey(stack, alice, { name: 'alice key' });
    expect((await generate(stack.gatewayUrl, ka.key)).status).toBe(200);
    await poll(
      () => stack.api<Page<RequestLog>>(alice, 'GET', '/api/logs'),
      (r) => r.body.items.length > 0,
      5000,
      "alice's log",
    );

    await createUser(stack, admin, 'u-bob', pw('bob'));
    const bob = (await loginSession(stack, 'u-bob', pw('bob'))).token;
    const bobKey = await createKey(stack, bob, { name: 'bob key' });
    const cases: [string, string, unknown, number][] = [
      ['PATCH', `/api/auth-keys/${ka.id}`, { name: 'mine now' }, 404],
      ['PATCH', `/api/auth-keys/${ka.id}`, { isActive: false }, 404],
      ['POST', `/api/auth-keys/${ka.id}/rotate`, {}, 404],
      ['DELETE', `/api/auth-keys/${ka.id}`, undefined, 404],
      ['GET', `/api/auth-keys?userId=${aliceId}`, undefined, 403],
      ['GET', '/api/users', undefined, 403],
      ['POST', '/api/users', { username: 'u-evil', password: pw('evil'), role: 'admin' }, 403],
      ['PATCH', `/api/users/${aliceId}`, { password: pw('owned') }, 403],
      ['DELETE', `/api/users/${aliceId}`, undefined, 403],
      ['GET', '/api/keys', undefined, 403],
      ['POST', '/api/keys', { keys: [fakeGeminiKey()] }, 403],
      ['POST', '/api/keys/reset', undefined, 403],
    ];
    for (const [method, path, body, status] of cases) {
      const r = await stack.api(bob, method, path, body);
      expect({ method, path, status: r.status }).toEqual({ method, path, status });
    }
    // what B can list holds nothing of A's
    expect((await stack.api<AuthKey[]>(bob, 'GET', '/api/auth-keys')).body.map((k) => k.id)).toEqual([bobKey.id]);
    for (const q of ['', `?authKeyId=${ka.id}`, `?userId=${aliceId}`]) {
      const logs = await stack.api<Page<RequestLog>>(bob, 'GET', `/api/logs${q}`);
      expect(logs.status).toBe(q.startsWith('?userId') ? 400 : 200);
      if (logs.status === 200) expect(logs.body.items.filter((l) => l.userId === aliceId)).toEqual([]);
    }
    const stats = await stack.api<{ topKeys: { authKeyId: string }[] }>(bob, 'GET', '/api/stats?window=1h');
    expect(stats.body.topKeys.map((k) => k.authKeyId)).not.toContain(ka.id);
    // and A's key is untouched
    expect((await stack.api<AuthKey[]>(alice, 'GET', '/api/auth-keys')).body.find((k) => k.id === ka.id)).toMatchObject(
      {
        name: 'alice key',
        isActive: true,
      },
    );
    expect((await generate(stack.gatewayUrl, ka.key)).status).toBe(200);
  });
});
