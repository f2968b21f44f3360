import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import type { User } from '@gg/contracts';
import { freePort, startMockGemini, Stack, testRedis, type MockGemini } from '@gg/testing';
import { Redis } from 'ioredis';
import { createUser, loginSession } from './accounts-helpers';
import { fakeGeminiKey, poll } from './helpers';

jest.setTimeout(90_000);

/** The "ingress" of this test: the one address TRUSTED_PROXIES lists (all of 127.0.0.0/8 is this host). */
const PROXY = '127.0.0.2';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** An HTTP request from a chosen local address (the client or the trusted proxy). */
function call(
  url: string,
  opts: { method?: string; from?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: opts.method ?? 'GET', localAddress: opts.from ?? '127.0.0.1', headers: opts.headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }),
        );
      },
    );
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

const json = { 'content-type': 'application/json' };

/**
 * The admin API's trust boundaries (issue 12, points 2, 3, 4, 5, 6), against the real stack: JSON only and same
 * origin for state-changing requests, X-Forwarded-For believed only from TRUSTED_PROXIES, a login throttle that
 * cannot lock a user out from another address, no caller believed from a Redis publisher, the API docs for admins
 * only, 413 / 400 / 503 that say what happened.
 */
describe('admin trust boundaries', () => {
  let mock: MockGemini;
  let stack: Stack;
  let admin: string;
  const pw = (name: string): string => `${name}-password-1`;
  const login = (username: string, password: string, from?: string, xff?: string): Promise<Answer> =>
    call(`${stack.adminUrl}/api/auth/login`, {
      method: 'POST',
      from,
      headers: { ...json, ...(xff ? { 'x-forwarded-for': xff } : {}) },
      body: JSON.stringify({ username, password }),
    });

  beforeAll(async () => {
    mock = await startMockGemini();
    stack = await Stack.start({ geminiBaseUrl: mock.url, env: { TRUSTED_PROXIES: PROXY } });
    admin = await stack.login();
  });

  afterAll(async () => {
    await stack?.stop();
    await mock?.close();
  });

  it('refuses a cross-site form login (415) and a login from another Origin (403); a same-origin JSON login works', async () => {
    const form = await call(`${stack.adminUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: stack.adminUsername, password: stack.adminPassword }).toString(),
    });
    expect(form.status).toBe(415);
    expect(form.headers['set-cookie']).toBeUndefined();
    for (const type of ['text/plain', 'multipart/form-data; boundary=x']) {
      const r = await call(`${stack.adminUrl}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': type },
        body: '{}',
      });
      expect(r.status).toBe(415);
    }
    const body = JSON.stringify({ username: stack.adminUsername, password: stack.adminPassword });
    const evil = await call(`${stack.adminUrl}/api/auth/login`, {
      method: 'POST',
      headers: { ...json, origin: 'https://evil.example' },
      body,
    });
    expect(evil.status).toBe(403);
    expect(evil.headers['set-cookie']).toBeUndefined();
    const crossSite = await call(`${stack.adminUrl}/api/auth/login`, {
      method: 'POST',
      headers: { ...json, 'sec-fetch-site': 'cross-site' },
      body,
    });
    expect(crossSite.status).toBe(403);
    const same = await call(`${stack.adminUrl}/api/auth/login`, {
      method: 'POST',
      headers: { ...json, origin: stack.adminUrl, 'sec-fetch-site': 'same-origin' },
      body,
    });
    expect(same.status).toBe(200);
    // every state-changing route, not only login
    const create = await call(`${stack.adminUrl}/api/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'username=mallory&password=mallory-password&role=admin',
    });
    expect(create.status).toBe(415);
    const del = await call(`${stack.adminUrl}/api/keys/some-id`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${admin}`, origin: 'https://evil.example' },
    });
    expect(del.status).toBe(403);
  });

  it('sets the refresh cookie HttpOnly, SameSite=Strict, on /api/auth only, and Secure when the trusted proxy says https', async () => {
    const plain = await login(stack.adminUsername, stack.adminPassword);
    const cookie = String(plain.headers['set-cookie']);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).toMatch(/Path=\/api\/auth/);
    expect(cookie).not.toMatch(/Secure/);
    const viaProxy = await call(`${stack.adminUrl}/api/auth/login`, {
      method: 'POST',
      from: PROXY,
      headers: { ...json, 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.9' },
      body: JSON.stringify({ username: stack.adminUsername, password: stack.adminPassword }),
    });
    expect(String(viaProxy.headers['set-cookie'])).toMatch(/Secure/);
    const spoofed = await call(`${stack.adminUrl}/api/auth/login`, {
      method: 'POST',
      headers: { ...json, 'x-forwarded-proto': 'https' },
      body: JSON.stringify({ username: stack.adminUsername, password: stack.adminPassword }),
    });
    expect(spoofed.status).toBe(200);
    expect(String(spoofed.headers['set-cookie'])).not.toMatch(/Secure/); // X-Forwarded-Proto from a client is ignored
  });

  it('ignores X-Forwarded-For from an untrusted client (a new address per try is still throttled) and believes the trusted proxy', async () => {
    const name = 'u-spoofer-target';
    await createUser(stack, admin, name, pw(name));
    // a local client, not the proxy, rotating X-Forwarded-For: all of it is 127.0.0.1, throttled after 10 failures
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++)
      statuses.push((await login(name, 'wrong-password', '127.0.0.1', `198.51.100.${i + 1}`)).status);
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(statuses[10]).toBe(429);

    // through the trusted proxy, X-Forwarded-For is the client: one address throttled, another not
    for (let i = 0; i < 10; i++) expect((await login(name, 'wrong-password', PROXY, '203.0.113.10')).status).toBe(401);
    const blocked = await login(name, pw(name), PROXY, '203.0.113.10');
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect((await login(name, pw(name), PROXY, '203.0.113.11')).status).toBe(200);
  });

  it('50 failed logins from one address do not lock the user out from another address', async () => {
    const victim = 'u-victim';
    await createUser(stack, admin, victim, pw(victim));
    // an attacker at one address fails 50 times (the victim's name among others), and is blocked
    const names = [victim, 'u-nobody-1', 'u-nobody-2', 'u-nobody-3', 'u-nobody-4', 'u-nobody-5'];
    let failures = 0;
    for (const n of names) {
      for (let i = 0; i < 10 && failures < 50; i++, failures++)
        expect((await login(n, 'wrong-password', PROXY, '192.0.2.66')).status).toBe(401);
    }
    expect((await login('u-nobody-6', 'wrong-password', PROXY, '192.0.2.66')).status).toBe(429);
    expect((await login(victim, pw(victim), PROXY, '192.0.2.66')).status).toBe(429);
    // the victim, from their own address, logs in
    expect((await login(victim, pw(victim), PROXY, '192.0.2.77')).status).toBe(200);
    // and so does anyone reaching the admin directly
    expect((await login(victim, pw(victim), '127.0.0.1')).status).toBe(200);
  });

  it('refuses a caller forged by a publisher on the Redis namespace (auth and key-pool)', async () => {
    expect((await stack.api(admin, 'POST', '/api/keys', { keys: [fakeGeminiKey()] })).status).toBe(201);
    const adminId = (await stack.api<{ id: string }>(admin, 'GET', '/api/auth/me')).body.id;
    const redis = testRedis();
    const sub = testRedis();
    const replies: Record<string, unknown> = {};
    sub.on('message', (_channel: string, message: string) => {
      try {
        const m = JSON.parse(message) as { id?: string };
        if (m.id) replies[m.id] = m;
      } catch {
        // sealed or foreign: not an answer to us
      }
    });
    /** A raw Nest Redis-transport request (`{pattern, data, id}` on the pattern's channel, answer on `.reply`). */
    const forge = async (name: string, data: object): Promise<string> => {
      const pattern = `${stack.namespace}:${name}`;
      await sub.subscribe(`${pattern}.reply`);
      const id = randomUUID();
      await redis.publish(pattern, JSON.stringify({ pattern, data, id }));
      return id;
    };
    try {
      const caller = { userId: adminId, role: 'admin', tokenVersion: 0 };
      const ids = [
        await forge('auth.users.create', { caller, username: 'u-mallory', password: pw('mallory'), role: 'admin' }),
        await forge('auth.users.create', {
          caller,
          proof: 'x.y',
          username: 'u-mallory',
          password: pw('mallory'),
          role: 'admin',
        }),
        await forge('auth.users.update', { caller, id: adminId, password: pw('mallory') }),
        await forge('pool.keys.list', {}),
        await forge('pool.keys.reset-all', { caller }),
      ];
      // give the services time to act on them, then check that nothing happened
      await new Promise((r) => setTimeout(r, 1500));
      const users = (await stack.api<User[]>(admin, 'GET', '/api/users')).body;
      expect(users.map((u) => u.username)).not.toContain('u-mallory');
      expect((await login(stack.adminUsername, pw('mallory'))).status).toBe(401);
      expect((await login(stack.adminUsername, stack.adminPassword)).status).toBe(200);
      for (const id of ids) {
        const reply = replies[id] as { err?: unknown; response?: unknown } | undefined;
        // no answer (the message was dropped) or a refusal; never a result
        if (reply) {
          expect(reply.err).toBeDefined();
          expect(reply.response).toBeUndefined();
        }
      }
    } finally {
      redis.disconnect();
      sub.disconnect();
    }
  });

  it('answers 413 to a 2 MB body and 400 naming the field or the JSON error', async () => {
    const big = await call(`${stack.adminUrl}/api/auth-keys`, {
      method: 'POST',
      headers: { ...json, authorization: `Bearer ${admin}` },
      body: JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) }),
    });
    expect(big.status).toBe(413);
    expect(JSON.parse(big.body)).toMatchObject({ statusCode: 413, message: expect.stringMatching(/larger than/) });
    const broken = await call(`${stack.adminUrl}/api/auth-keys`, {
      method: 'POST',
      headers: { ...json, authorization: `Bearer ${admin}` },
      body: '{"name":',
    });
    expect(broken.status).toBe(400);
    expect(JSON.parse(broken.body).message).toMatch(/not valid JSON/);
    const field = await stack.api<{ message: string }>(admin, 'POST', '/api/users', {
      username: 'ab',
      password: pw('ab'),
      role: 'user',
    });
    expect(field.status).toBe(400);
    expect(field.body.message).toMatch(/username/);
  });

  it('serves the API docs to logged-in admins only', async () => {
    const user = 'u-docs-reader';
    await createUser(stack, admin, user, pw(user));
    const userToken = (await loginSession(stack, user, pw(user))).token;
    for (const path of ['/api/docs', '/api/docs/', '/api/docs-json', '/api/docs-yaml']) {
      expect((await call(`${stack.adminUrl}${path}`)).status).toBe(401);
    }
    expect(
      (await call(`${stack.adminUrl}/api/docs-json`, { headers: { authorization: `Bearer ${userToken}` } })).status,
    ).toBe(403);
    const doc = await call(`${stack.adminUrl}/api/docs-json`, { headers: { authorization: `Bearer ${admin}` } });
    expect(doc.status).toBe(200);
    expect(JSON.parse(doc.body)).toMatchObject({ openapi: expect.any(String) });
  });
});

/** A Redis of this test's own, which it can stop and start again. */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const probe = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  await poll(
    () =>
      probe.connect().then(
        () => 'up',
        () => 'down',
      ),
    (s) => s === 'up',
    10_000,
    'private redis',
  );
  probe.disconnect();
  return child;
}

describe('admin while Redis is down', () => {
  let mock: MockGemini;
  let stack: Stack;
  let redis: ChildProcess;
  let port: number;

  beforeAll(async () => {
    port = await freePort();
    redis = await startRedis(port);
    mock = await startMockGemini();
    stack = await Stack.start({ geminiBaseUrl: mock.url, redisUrl: `redis://127.0.0.1:${port}` });
  });

  afterAll(async () => {
    if (redis.exitCode !== null || redis.killed) redis = await startRedis(port);
    await stack?.stop();
    redis.kill('SIGKILL');
    await mock?.close();
  });

  it('answers login with 503 and Retry-After, and works again once Redis is back', async () => {
    const token = await stack.login();
    redis.kill('SIGKILL');
    await new Promise((r) => redis.once('exit', r));
    const down = await fetch(`${stack.adminUrl}/api/auth/login`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ username: stack.adminUsername, password: stack.adminPassword }),
    });
    expect(down.status).toBe(503);
    expect(Number(down.headers.get('retry-after'))).toBeGreaterThan(0);
    const ticket = await fetch(`${stack.adminUrl}/api/streams/ticket`, {
      method: 'POST',
      headers: { ...json, authorization: `Bearer ${token}` },
      body: JSON.stringify({ stream: 'logs' }),
    });
    expect(ticket.status).toBe(503);
    expect(Number(ticket.headers.get('retry-after'))).toBeGreaterThan(0);

    redis = await startRedis(port);
    await poll(
      () =>
        stack.login().then(
          () => 'ok',
          (e: Error) => e.message,
        ),
      (s) => s === 'ok',
      30_000,
      'login after Redis is back',
    );
  });
});
