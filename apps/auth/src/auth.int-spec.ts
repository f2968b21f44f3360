/**
 * Boots the real AuthModule (as main.ts does) against a real Redis and a real database, once per DATABASE_TYPE,
 * and talks to it over the real Redis transport as the admin and the gateway do.
 * Each boot has its own REDIS_NAMESPACE and DATA_DIR; the config is read once per module registry, so every
 * boot loads the app inside `jest.isolateModulesAsync` after setting the environment.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import type { AppConfig } from '@gg/config';
import {
  AuthEvent,
  AuthPattern,
  JobName,
  QueueName,
  type AuthKey,
  type AuthKeyRecord,
  type AuthKeyWithSecret,
  type Caller,
  type KeyChangedEvent,
  type Me,
  type Page,
  type RequestLog,
  type SessionTokens,
  type UsageBatchJob,
  type User,
} from '@gg/contracts';
import { TransportSeal, type DomainError, type RpcClient } from '@gg/nest-common';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { poll, testRedisOptions, testRedisUrl } from '@gg/testing';
import { JwtService } from '@nestjs/jwt';

const REDIS_URL = testRedisUrl();
const ADMIN_PASSWORD = 'first-admin-password';
jest.setTimeout(30_000);

interface Booted {
  app: INestApplication;
  config: AppConfig;
  rpc: RpcClient;
  hashUserKey: (key: string, secret: string) => string;
  /** a caller proof as the admin signs it (the session id defaults to one that was never ended) */
  prove: (caller: Caller & { sessionId?: string }, pattern: string, payload: object) => string;
}

async function boot(env: Record<string, string>): Promise<Booted> {
  Object.assign(process.env, env);
  let booted: Booted | undefined;
  await jest.isolateModulesAsync(async () => {
    const { NestFactory } = await import('@nestjs/core');
    const { getConfig } = await import('@gg/config');
    const common = await import('@gg/nest-common');
    const { AuthModule } = await import('./auth.module');
    const { configureAuthApp } = await import('./app.setup');
    const app = await NestFactory.create(AuthModule, { bufferLogs: true });
    const config = configureAuthApp(app);
    await app.init();
    await app.startAllMicroservices();
    await app.listen(0, '127.0.0.1');
    const rpc = new common.RpcClient(getConfig());
    await rpc.onModuleInit();
    const key = common.callerProofKey(config.jwtSecret);
    const prove = (caller: Caller & { sessionId?: string }, pattern: string, payload: object): string =>
      common.signCallerProof(
        key,
        { sessionId: 'int-spec-session', ...caller },
        `${config.redisNamespace}:${pattern}`,
        payload,
      );
    booted = { app, config, rpc, hashUserKey: common.hashUserKey, prove };
  });
  return booted!;
}

/** Until `fn` gives a value (a try that throws counts as "not yet"): `poll` from @gg/testing, 10 s by default. */
const until = <T>(what: string, fn: () => Promise<T | undefined>, deadlineMs = 10_000): Promise<T> =>
  poll(fn, (v) => v !== undefined, deadlineMs, what, { retryErrors: true }) as Promise<T>;

async function deleteNamespace(redis: Redis, ns: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${ns}:*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}

describe.each(['sqlite', 'redis'] as const)('auth service over the Redis transport (%s)', (databaseType) => {
  const ns = `t-${randomUUID().slice(0, 12)}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'gg-auth-'));
  let s: Booted;
  let redis: Redis;
  let subscriber: Redis;
  let queue: Queue<UsageBatchJob>;
  const keyChanged: KeyChangedEvent[] = [];
  const appended: RequestLog[][] = [];
  let admin: Caller;
  let alice: Caller;

  /** As the admin sends it: a `caller` in the test's payload travels as a caller proof, never as a caller. */
  const send = <T>(pattern: string, data: unknown): Promise<T> => s.rpc.send<T>(pattern, withProof(pattern, data));
  const withProof = (pattern: string, data: unknown): unknown => {
    if (typeof data !== 'object' || data === null || !('caller' in data)) return data;
    const { caller, ...rest } = data as { caller: Caller & { sessionId?: string } };
    return { ...rest, proof: s.prove(caller, pattern, rest) };
  };
  const failure = (p: Promise<unknown>): Promise<string> =>
    p.then(
      () => 'no error',
      (e: DomainError) => `${e.code}: ${e.message}`,
    );

  beforeAll(async () => {
    redis = new Redis(REDIS_URL);
    subscriber = new Redis(REDIS_URL);
    await subscriber.subscribe(`${ns}:${AuthEvent.KeyChanged}`, `${ns}:${AuthEvent.LogsAppended}`);
    let seal: TransportSeal | undefined;
    subscriber.on('message', (channel: string, message: string) => {
      // every transport message is sealed with TRANSPORT_KEY (generated into DATA_DIR here)
      seal ??= new TransportSeal(s.config.transportKey);
      const opened = seal.open(JSON.parse(message));
      if (!opened.ok) throw new Error(`an unreadable event on ${channel}: ${opened.why}`);
      const { data } = opened.packet as { data: unknown };
      if (channel.endsWith(AuthEvent.KeyChanged)) keyChanged.push(data as KeyChangedEvent);
      else appended.push(data as RequestLog[]);
    });
    s = await boot({
      TZ: 'UTC',
      REDIS_URL,
      REDIS_NAMESPACE: ns,
      DATA_DIR: dataDir,
      DATABASE_TYPE: databaseType,
      AUTH_HTTP_PORT: '0',
      ADMIN_USERNAME: 'root',
      ADMIN_PASSWORD,
      BCRYPT_COST: '4',
      LOG_LEVEL: 'error',
    });
    queue = new Queue<UsageBatchJob>(QueueName.Usage, { connection: testRedisOptions(), prefix: `${ns}:bull` });
    // the transport subscribes asynchronously: wait until the service answers
    const tokens = await until('the first login', () =>
      s.rpc.send<SessionTokens>(AuthPattern.Login, { username: 'root', password: ADMIN_PASSWORD }, 1000),
    );
    const claims = new JwtService().decode<{ sub: string }>(tokens.accessToken);
    admin = { userId: claims.sub, role: 'admin', tokenVersion: 0 };
  });

  afterAll(async () => {
    await queue?.close();
    await s?.rpc.onApplicationShutdown();
    await s?.app.close();
    await subscriber.quit();
    await deleteNamespace(redis, ns);
    await redis.quit();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers the probes: alive, and ready when its database and Redis answer', async () => {
    const base = await s.app.getUrl();
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ok', checks: { db: true, redis: true } });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('process_cpu_user_seconds_total');
  });

  it('logs in: an HS256 JWT for the admin audience; wrong or unknown credentials answer alike', async () => {
    const t = await send<SessionTokens>(AuthPattern.Login, {
      username: 'root',
      password: ADMIN_PASSWORD,
      ip: '127.0.0.1',
    });
    const claims = await new JwtService().verifyAsync(t.accessToken, {
      secret: s.config.jwtSecret,
      algorithms: ['HS256'],
      issuer: 'gemini-gateway',
      audience: 'gemini-gateway-admin',
    });
    expect(claims).toMatchObject({ sub: admin.userId, username: 'root', role: 'admin', tv: 0 });
    await expect(
      new JwtService().verifyAsync(t.accessToken, { secret: s.config.jwtSecret, audience: 'something-else' }),
    ).rejects.toThrow();

    const bad = 'UNAUTHORIZED: invalid username or password';
    expect(await failure(send(AuthPattern.Login, { username: 'root', password: 'wrong-password' }))).toBe(bad);
    expect(await failure(send(AuthPattern.Login, { username: 'nobody', password: ADMIN_PASSWORD }))).toBe(bad);
    expect(await failure(send(AuthPattern.Login, { username: 'root' }))).toMatch(/^BAD_REQUEST: .*password/);
    expect(await failure(send(AuthPattern.Login, { username: 'root', password: 'x', extra: 1 }))).toMatch(
      /^BAD_REQUEST: property extra should not exist/,
    );
    expect(await send<Me>(AuthPattern.Me, { caller: admin })).toEqual({
      id: admin.userId,
      username: 'root',
      role: 'admin',
    });
  });

  it('rotates refresh tokens and revokes the family when a used one comes back', async () => {
    const first = await send<SessionTokens>(AuthPattern.Login, { username: 'root', password: ADMIN_PASSWORD });
    const second = await send<SessionTokens>(AuthPattern.Refresh, { refreshToken: first.refreshToken });
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(second.accessToken).toEqual(expect.any(String));

    expect(await failure(send(AuthPattern.Refresh, { refreshToken: first.refreshToken }))).toMatch(/^UNAUTHORIZED/);
    // reuse detected: the latest token of that family is dead too
    expect(await failure(send(AuthPattern.Refresh, { refreshToken: second.refreshToken }))).toMatch(/^UNAUTHORIZED/);

    const other = await send<SessionTokens>(AuthPattern.Login, { username: 'root', password: ADMIN_PASSWORD });
    expect(await send(AuthPattern.Logout, { refreshToken: other.refreshToken })).toBeNull();
    expect(await failure(send(AuthPattern.Refresh, { refreshToken: other.refreshToken }))).toMatch(/^UNAUTHORIZED/);
  });

  it('users: admins create them; users may not; the last admin stays', async () => {
    const created = await send<User>(AuthPattern.UsersCreate, {
      caller: admin,
      username: 'alice',
      password: 'alice-password',
      role: 'user',
    });
    expect(created).toMatchObject({ username: 'alice', role: 'user', isActive: true });
    alice = { userId: created.id, role: 'user', tokenVersion: 0 };
    expect((await send<User[]>(AuthPattern.UsersList, { caller: admin })).map((u) => u.username)).toEqual([
      'root',
      'alice',
    ]);

    expect(await failure(send(AuthPattern.UsersList, { caller: alice }))).toMatch(/^FORBIDDEN/);
    expect(
      await failure(
        send(AuthPattern.UsersCreate, { caller: alice, username: 'mallory', password: 'mallory-pass', role: 'admin' }),
      ),
    ).toMatch(/^FORBIDDEN/);
    // a caller claiming a role it does not have is refused
    expect(await failure(send(AuthPattern.UsersList, { caller: { ...alice, role: 'admin' } }))).toMatch(
      /^UNAUTHORIZED/,
    );
    expect(await failure(send(AuthPattern.UsersUpdate, { caller: admin, id: admin.userId, role: 'user' }))).toMatch(
      /^CONFLICT: the last active admin/,
    );
    expect(
      await failure(send(AuthPattern.UsersCreate, { caller: admin, username: 'bob', password: 'short', role: 'user' })),
    ).toBe('BAD_REQUEST: password must be at least 8 characters');
  });

  it('keys: create, list, rename, deactivate (gateways told), verify, delete; hidden from other users', async () => {
    const created = await send<AuthKeyWithSecret>(AuthPattern.KeysCreate, { caller: alice, name: 'laptop' });
    expect(created.key).toMatch(/^gg1-/);
    const hash = s.hashUserKey(created.key, s.config.keyHashSecret);

    const listed = await send<AuthKey[]>(AuthPattern.KeysList, { caller: alice });
    expect(listed).toEqual([expect.objectContaining({ id: created.id, name: 'laptop', isActive: true, callCount: 0 })]);
    expect(listed[0]).not.toHaveProperty('key');
    expect(await send<AuthKeyRecord | null>(AuthPattern.KeyVerify, { hash })).toEqual({
      id: created.id,
      userId: alice.userId,
      isActive: true,
      expiresAt: null,
      rateLimitPerMinute: null,
      allowedModels: null,
    });
    expect(await send(AuthPattern.KeyVerify, { hash: 'f'.repeat(64) })).toBeNull();

    const renamed = await send<AuthKey>(AuthPattern.KeysUpdate, { caller: alice, id: created.id, name: 'work laptop' });
    expect(renamed.name).toBe('work laptop');

    // the admin holds a key too; alice cannot see or touch it
    const adminKey = await send<AuthKeyWithSecret>(AuthPattern.KeysCreate, { caller: admin, name: 'admin key' });
    for (const [pattern, extra] of [
      [AuthPattern.KeysUpdate, { name: 'mine now' }],
      [AuthPattern.KeysRotate, {}],
      [AuthPattern.KeysDelete, {}],
    ] as const) {
      expect(await failure(send(pattern, { caller: alice, id: adminKey.id, ...extra }))).toBe(
        'NOT_FOUND: key not found',
      );
    }
    expect(
      (await send<AuthKey[]>(AuthPattern.KeysList, { caller: admin, userId: alice.userId })).map((k) => k.id),
    ).toEqual([created.id]);

    keyChanged.length = 0;
    const off = await send<AuthKey>(AuthPattern.KeysUpdate, { caller: alice, id: created.id, isActive: false });
    expect(off.isActive).toBe(false);
    await until('the key changed event', async () => (keyChanged.length > 0 ? true : undefined), 2000);
    expect(keyChanged).toEqual([{ hashes: [hash] }]);
    expect((await send<AuthKeyRecord>(AuthPattern.KeyVerify, { hash })).isActive).toBe(false);

    const rotated = await send<AuthKeyWithSecret>(AuthPattern.KeysRotate, { caller: alice, id: created.id });
    expect(await send(AuthPattern.KeyVerify, { hash })).toBeNull();
    const newHash = s.hashUserKey(rotated.key, s.config.keyHashSecret);
    expect(await send<AuthKeyRecord>(AuthPattern.KeyVerify, { hash: newHash })).toMatchObject({ id: created.id });

    expect(await send(AuthPattern.KeysDelete, { caller: alice, id: created.id })).toBeNull();
    expect(await send(AuthPattern.KeyVerify, { hash: newHash })).toBeNull();
    expect(await send<AuthKey[]>(AuthPattern.KeysList, { caller: alice })).toEqual([]);
    await until(
      'the delete event',
      async () => (keyChanged.some((e) => e.hashes[0] === newHash) ? true : undefined),
      2000,
    );
  });

  it('applies a usage batch once even when the same job data is queued twice', async () => {
    const key = await send<AuthKeyWithSecret>(AuthPattern.KeysCreate, { caller: alice, name: 'counted' });
    const requestId = randomUUID();
    const data: UsageBatchJob = {
      records: [
        {
          requestId,
          at: new Date().toISOString(),
          userId: alice.userId,
          authKeyId: key.id,
          poolKeyId: null,
          method: 'generateContent',
          model: 'gemini-2.5-flash',
          stream: false,
          status: 200,
          attempts: 1,
          latencyMs: 42,
          ttfbMs: 30,
          promptTokens: 7,
          outputTokens: 11,
        },
      ],
    };
    appended.length = 0;
    await queue.add(JobName.UsageBatch, data);
    await queue.add(JobName.UsageBatch, data);
    await until('both usage jobs to complete', async () =>
      (await queue.getJobCounts('completed')).completed === 2 ? true : undefined,
    );

    const [counted] = await send<AuthKey[]>(AuthPattern.KeysList, { caller: alice });
    expect(counted).toMatchObject({ id: key.id, callCount: 1, promptTokens: 7, outputTokens: 11 });
    expect(counted.lastUsedAt).not.toBeNull();

    const page = await send<Page<RequestLog>>(AuthPattern.LogsQuery, { caller: alice, query: { limit: 10 } });
    expect(page.items.map((l) => l.id)).toEqual([requestId]);
    // alice cannot read the admin's logs by asking for them
    const forced = await send<Page<RequestLog>>(AuthPattern.LogsQuery, {
      caller: alice,
      query: { userId: admin.userId },
    });
    expect(forced.items.map((l) => l.id)).toEqual([requestId]);
    await until('the logs appended event', async () => (appended.length > 0 ? true : undefined), 2000);
    expect(appended.flat().map((l) => l.id)).toEqual([requestId]);

    const stats = await send<{ window: string }>(AuthPattern.Stats, { caller: admin, window: '24h' });
    expect(stats.window).toBe('24h');
  });

  it('limits and rotation with grace reach the gateway through KeyVerify', async () => {
    const created = await send<AuthKeyWithSecret>(AuthPattern.KeysCreate, {
      caller: alice,
      name: 'limited',
      rateLimitPerMinute: 3,
      allowedModels: ['models/gemini-2.5-flash'],
    });
    expect(created).toMatchObject({
      rateLimitPerMinute: 3,
      allowedModels: ['gemini-2.5-flash'],
      previousKeyExpiresAt: null,
    });
    const oldHash = s.hashUserKey(created.key, s.config.keyHashSecret);
    expect(await send<AuthKeyRecord>(AuthPattern.KeyVerify, { hash: oldHash })).toMatchObject({
      rateLimitPerMinute: 3,
      allowedModels: ['gemini-2.5-flash'],
    });
    expect(
      await failure(send(AuthPattern.KeysUpdate, { caller: alice, id: created.id, rateLimitPerMinute: 0 })),
    ).toMatch(/^BAD_REQUEST: rateLimitPerMinute/);

    keyChanged.length = 0;
    const rotated = await send<AuthKeyWithSecret>(AuthPattern.KeysRotate, {
      caller: alice,
      id: created.id,
      graceSeconds: 120,
    });
    const graceEnd = Date.parse(rotated.previousKeyExpiresAt!);
    expect(graceEnd - Date.now()).toBeGreaterThan(100_000);
    const old = await send<AuthKeyRecord>(AuthPattern.KeyVerify, { hash: oldHash });
    expect(old).toMatchObject({ id: created.id, isActive: true, expiresAt: graceEnd, rateLimitPerMinute: 3 });
    await until(
      'the rotation event',
      async () => (keyChanged.some((e) => e.hashes.includes(oldHash)) ? true : undefined),
      2000,
    );
    const again = await send<AuthKeyWithSecret>(AuthPattern.KeysRotate, { caller: alice, id: created.id });
    expect(again.previousKeyExpiresAt).toBeNull();
    expect(await send(AuthPattern.KeyVerify, { hash: oldHash })).toBeNull();
    expect(await send(AuthPattern.KeyVerify, { hash: s.hashUserKey(rotated.key, s.config.keyHashSecret) })).toBeNull();
    expect(
      await failure(send(AuthPattern.KeysRotate, { caller: alice, id: created.id, graceSeconds: 31 * 86400 })),
    ).toMatch(/^BAD_REQUEST: graceSeconds must be at most/);
  });

  it('refuses a caller whose token version is behind: a password change ends every access token at once', async () => {
    const bob = await send<User>(AuthPattern.UsersCreate, {
      caller: admin,
      username: 'bob',
      password: 'bob-password',
      role: 'user',
    });
    const bobCaller: Caller = { userId: bob.id, role: 'user', tokenVersion: 0 };
    expect(await send<Me>(AuthPattern.Me, { caller: bobCaller })).toMatchObject({ username: 'bob' });
    expect(await failure(send(AuthPattern.Me, { caller: { userId: bob.id, role: 'user' } }))).toMatch(/^UNAUTHORIZED/);
    await send(AuthPattern.ChangePassword, {
      caller: bobCaller,
      currentPassword: 'bob-password',
      newPassword: 'bob-password-2',
    });
    expect(await failure(send(AuthPattern.KeysList, { caller: bobCaller }))).toBe(
      'UNAUTHORIZED: session is no longer valid; please log in again',
    );
    const fresh = await send<SessionTokens>(AuthPattern.Login, { username: 'bob', password: 'bob-password-2' });
    const tv = new JwtService().decode<{ tv: number }>(fresh.accessToken).tv;
    expect(tv).toBe(1);
    expect(await send<AuthKey[]>(AuthPattern.KeysList, { caller: { ...bobCaller, tokenVersion: tv } })).toEqual([]);
  });

  it('throttles failed logins per username+IP and per IP through Redis, with retryAfter; a success resets', async () => {
    const attempt = (username: string, password: string, ip: string) =>
      send<SessionTokens>(AuthPattern.Login, { username, password, ip }).then(
        () => 'ok',
        (e: DomainError) => `${e.code}${e.retryAfter !== undefined ? ` ${e.retryAfter}` : ''}`,
      );
    // nine failures, then a success: the username counter starts again
    for (let i = 0; i < 9; i++) expect(await attempt('root', 'wrong-password', '10.1.1.1')).toBe('UNAUTHORIZED');
    expect(await attempt('root', ADMIN_PASSWORD, '10.1.1.1')).toBe('ok');
    for (let i = 0; i < 10; i++) expect(await attempt('root', 'wrong-password', '10.1.1.1')).toBe('UNAUTHORIZED');
    // the 11th try is refused before the password is looked at, even the right one
    const blocked = await attempt('root', ADMIN_PASSWORD, '10.1.1.1');
    expect(blocked).toMatch(/^TOO_MANY_REQUESTS \d+$/);
    const retryAfter = Number(blocked.split(' ')[1]);
    expect(retryAfter).toBeGreaterThan(800);
    expect(retryAfter).toBeLessThanOrEqual(900);
    // another IP may still log in as root; the counters live in Redis under the namespace
    expect(await attempt('root', ADMIN_PASSWORD, '10.1.1.2')).toBe('ok');
    expect(await redis.keys(`${ns}:auth:login:*`)).not.toHaveLength(0);
    // one IP spraying many usernames: 50 failures, then refused for any username
    for (let i = 0; i < 50; i++) await attempt(`spray${i}`, 'wrong-password', '10.9.9.9');
    expect(await attempt('root', ADMIN_PASSWORD, '10.9.9.9')).toMatch(/^TOO_MANY_REQUESTS \d+$/);
  });

  it('deactivating a user makes their keys inactive for the gateways at once', async () => {
    const key = await send<AuthKeyWithSecret>(AuthPattern.KeysCreate, { caller: alice, name: 'soon off' });
    const hash = s.hashUserKey(key.key, s.config.keyHashSecret);
    keyChanged.length = 0;
    await send<User>(AuthPattern.UsersUpdate, { caller: admin, id: alice.userId, isActive: false });
    expect((await send<AuthKeyRecord>(AuthPattern.KeyVerify, { hash })).isActive).toBe(false);
    await until(
      'the key changed event',
      async () => (keyChanged.some((e) => e.hashes.includes(hash)) ? true : undefined),
      2000,
    );
    expect(await failure(send(AuthPattern.KeysList, { caller: alice }))).toMatch(/^UNAUTHORIZED/);
    expect(await failure(send(AuthPattern.Login, { username: 'alice', password: 'alice-password' }))).toBe(
      'UNAUTHORIZED: invalid username or password',
    );
  });

  it('believes no bare caller: only a caller proof for this pattern and payload, once', async () => {
    // a peer on the transport sends a caller object: refused, whoever it names
    expect(await failure(s.rpc.send(AuthPattern.UsersList, { caller: admin }))).toBe('UNAUTHORIZED: not logged in');
    expect(await failure(s.rpc.send(AuthPattern.UsersList, { caller: admin, proof: 'forged.proof' }))).toMatch(
      /^UNAUTHORIZED/,
    );
    const payload = { username: 'mallory', password: 'mallory-password', role: 'admin' };
    const forOther = { ...payload, proof: s.prove(admin, AuthPattern.UsersList, payload) };
    expect(await failure(s.rpc.send(AuthPattern.UsersCreate, forOther))).toBe('UNAUTHORIZED: invalid caller proof');
    const changed = { ...payload, role: 'user', proof: s.prove(admin, AuthPattern.UsersCreate, payload) };
    expect(await failure(s.rpc.send(AuthPattern.UsersCreate, changed))).toBe('UNAUTHORIZED: invalid caller proof');
    const once = { proof: s.prove(admin, AuthPattern.UsersList, {}) };
    expect(await s.rpc.send<User[]>(AuthPattern.UsersList, once)).not.toHaveLength(0);
    expect(await failure(s.rpc.send(AuthPattern.UsersList, once))).toBe('UNAUTHORIZED: caller proof already used');
    // whatever `caller` rides along with a valid proof is replaced by the proven one
    const me = await s.rpc.send<Me>(AuthPattern.Me, {
      caller: { userId: 'someone-else', role: 'admin', tokenVersion: 0 },
      proof: s.prove(admin, AuthPattern.Me, { caller: { userId: 'someone-else', role: 'admin', tokenVersion: 0 } }),
    });
    expect(me.id).toBe(admin.userId);
  });

  it('puts the session in the access token; logout by proof or by refresh token, and refresh reuse, end it', async () => {
    const sessionOf = (t: SessionTokens): Caller & { sessionId: string } => {
      const c = new JwtService().decode<{ sub: string; tv: number; sid: string; exp?: number; iat?: number }>(
        t.accessToken,
      );
      expect(c).toMatchObject({ sid: expect.any(String), exp: expect.any(Number), iat: expect.any(Number) });
      return { userId: c.sub, role: 'admin', tokenVersion: c.tv, sessionId: c.sid };
    };
    const login = () => send<SessionTokens>(AuthPattern.Login, { username: 'root', password: ADMIN_PASSWORD });
    const me = (caller: Caller & { sessionId: string }) => failure(send(AuthPattern.Me, { caller }));

    // logout with only the proof (no refresh token): that session ends, its refresh token too; others live
    const a = await login();
    const b = await login();
    const [sa, sb] = [sessionOf(a), sessionOf(b)];
    expect(sa.sessionId).not.toBe(sb.sessionId);
    expect(await me(sa)).toBe('no error');
    expect(await s.rpc.send(AuthPattern.Logout, { proof: s.prove(sa, AuthPattern.Logout, {}) })).toBeNull();
    expect(await me(sa)).toBe('UNAUTHORIZED: session is no longer valid; please log in again');
    expect(await failure(send(AuthPattern.Refresh, { refreshToken: a.refreshToken }))).toMatch(/^UNAUTHORIZED/);
    expect(await me(sb)).toBe('no error');
    // a forged proof cannot log anyone out, nor a sessionId sent as is
    expect(await failure(s.rpc.send(AuthPattern.Logout, { proof: 'x.y' }))).toMatch(/^UNAUTHORIZED/);
    expect(await failure(s.rpc.send(AuthPattern.Logout, { provenSessionId: sb.sessionId }))).toBe('no error');
    expect(await me(sb)).toBe('no error');

    // logout with the refresh token: the session of its access tokens ends
    await send(AuthPattern.Logout, { refreshToken: b.refreshToken });
    expect(await me(sb)).toMatch(/^UNAUTHORIZED/);

    // refresh-token reuse: every access token of the session is refused
    const c = await login();
    const c2 = await send<SessionTokens>(AuthPattern.Refresh, { refreshToken: c.refreshToken });
    expect(sessionOf(c2).sessionId).toBe(sessionOf(c).sessionId);
    expect(await me(sessionOf(c2))).toBe('no error');
    expect(await failure(send(AuthPattern.Refresh, { refreshToken: c.refreshToken }))).toMatch(/^UNAUTHORIZED/);
    expect(await me(sessionOf(c))).toMatch(/^UNAUTHORIZED/);
    expect(await me(sessionOf(c2))).toMatch(/^UNAUTHORIZED/);
  });
});
