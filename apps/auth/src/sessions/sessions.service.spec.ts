import { Logger } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { DomainError } from '@gg/nest-common';
import { PasswordService } from '../common/password.service';
import { FakeDb, FakeEvents, FakeThrottle, testConfig } from '../testing/fakes';
import { UsersService } from '../users/users.service';
import { RefreshTokenStore } from './refresh-token.store';
import { JWT_AUDIENCE, JWT_ISSUER, SessionsService } from './sessions.service';

beforeAll(() => Logger.overrideLogger(false));

async function setup() {
  const db = new FakeDb();
  const config = testConfig();
  const passwords = new PasswordService(config);
  const jwt = new JwtService({ secret: config.jwtSecret });
  const throttle = new FakeThrottle();
  const sessions = new SessionsService(
    config,
    db,
    jwt,
    passwords,
    new RefreshTokenStore(config, db),
    throttle.asService(),
  );
  const users = new UsersService(db, passwords, new FakeEvents().asService());
  const alice = await users.create({ username: 'alice', password: 'alice-password', role: 'user' });
  return { db, config, jwt, sessions, users, alice, throttle };
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

describe('SessionsService', () => {
  it('logs in with the right password: an HS256 JWT for the admin audience and a refresh token', async () => {
    const { config, jwt, sessions, alice } = await setup();
    const t = await sessions.login('alice', 'alice-password', '10.0.0.1');
    expect(t.expiresIn).toBe(config.accessTokenTtlSeconds);
    expect(t.refreshExpiresIn).toBe(config.refreshTokenTtlSeconds);
    expect(t.refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const claims = await jwt.verifyAsync(t.accessToken, {
      algorithms: ['HS256'],
      issuer: JWT_ISSUER,
      audience: JWT_AUDIENCE,
    });
    expect(claims).toMatchObject({ sub: alice.id, username: 'alice', role: 'user', tv: 0 });
    expect(claims.exp - claims.iat).toBe(config.accessTokenTtlSeconds);
  });

  it('answers wrong password, unknown user and inactive user alike', async () => {
    const { db, sessions, alice } = await setup();
    const expected = 'UNAUTHORIZED: invalid username or password';
    expect(await failure(sessions.login('alice', 'wrong-password'))).toBe(expected);
    expect(await failure(sessions.login('nobody', 'alice-password'))).toBe(expected);
    expect(await failure(sessions.login('alice', 'alice-password' + 'x'.repeat(80)))).toBe(expected);
    db.userRows.get(alice.id)!.isActive = false;
    expect(await failure(sessions.login('alice', 'alice-password'))).toBe(expected);
  });

  it('stores only the SHA-256 of a refresh token', async () => {
    const { db, sessions } = await setup();
    const t = await sessions.login('alice', 'alice-password');
    const dump = JSON.stringify([...db.kvStore]);
    expect(dump).not.toContain(t.refreshToken);
    expect([...db.kvStore.keys()]).toEqual([expect.stringMatching(/^refresh:[0-9a-f]{64}$/)]);
  });

  it('rotates refresh tokens; presenting a used one revokes the whole family', async () => {
    const { sessions } = await setup();
    const first = await sessions.login('alice', 'alice-password');
    const second = await sessions.refresh(first.refreshToken);
    expect(second.refreshToken).not.toBe(first.refreshToken);
    const third = await sessions.refresh(second.refreshToken);

    // the stolen first token comes back: refused, and the legitimate latest one dies with it
    expect(await failure(sessions.refresh(first.refreshToken))).toMatch(/^UNAUTHORIZED: /);
    expect(await failure(sessions.refresh(third.refreshToken))).toMatch(/^UNAUTHORIZED: /);

    // another login (another family) is unaffected
    const other = await sessions.login('alice', 'alice-password');
    await expect(sessions.refresh(other.refreshToken)).resolves.toHaveProperty('accessToken');
  });

  it('a token refreshed twice at once is rotated only once', async () => {
    const { sessions } = await setup();
    const t = await sessions.login('alice', 'alice-password');
    const results = await Promise.allSettled([sessions.refresh(t.refreshToken), sessions.refresh(t.refreshToken)]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
  });

  it('a password change (tokenVersion bump) ends refresh; logout deletes the token', async () => {
    const { sessions, users, alice } = await setup();
    const a = await sessions.login('alice', 'alice-password');
    const b = await sessions.login('alice', 'alice-password');
    await sessions.logout(b.refreshToken);
    expect(await failure(sessions.refresh(b.refreshToken))).toMatch(/^UNAUTHORIZED: /);

    await users.changePassword({ userId: alice.id, role: 'user', tokenVersion: 0 }, 'alice-password', 'new-password');
    expect(await failure(sessions.refresh(a.refreshToken))).toMatch(/^UNAUTHORIZED: /);
    const c = await sessions.login('alice', 'new-password');
    expect(await sessions.refresh(c.refreshToken)).toHaveProperty('accessToken');
  });

  it('counts failed logins with the throttle and refuses, before any password check, while it blocks', async () => {
    const { sessions, throttle } = await setup();
    expect(await failure(sessions.login('alice', 'wrong-password', '10.0.0.9'))).toBe(
      'UNAUTHORIZED: invalid username or password',
    );
    expect(throttle.failures).toEqual(['alice']);
    throttle.blocked = true;
    // even the right password is refused while blocked
    expect(await failure(sessions.login('alice', 'alice-password', '10.0.0.9'))).toBe(
      'TOO_MANY_REQUESTS: too many failed logins',
    );
  });

  it('logout revokes the whole family: a copy of an earlier token cannot be refreshed either', async () => {
    const { sessions } = await setup();
    const first = await sessions.login('alice', 'alice-password');
    const second = await sessions.refresh(first.refreshToken);
    await sessions.logout(second.refreshToken);
    expect(await failure(sessions.refresh(second.refreshToken))).toMatch(/^UNAUTHORIZED: /);
    expect(await failure(sessions.refresh(first.refreshToken))).toMatch(/^UNAUTHORIZED: /);
  });

  it('refuses an expired refresh token', async () => {
    const { db, sessions } = await setup();
    const t = await sessions.login('alice', 'alice-password');
    const [[key, entry]] = [...db.kvStore];
    db.kvStore.set(key, { ...entry, value: JSON.stringify({ ...JSON.parse(entry.value), expiresAt: Date.now() - 1 }) });
    expect(await failure(sessions.refresh(t.refreshToken))).toMatch(/^UNAUTHORIZED: /);
  });
});
