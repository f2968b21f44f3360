/**
 * The admin app for real (Nest, Express, passport, the Redis transport) against a fake auth and key-pool that
 * answer over the real Redis transport, checked over real HTTP.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { AuthEvent, type RequestLog } from '@gg/contracts';
import { testRedis, testRedisUrl, waitFor } from '@gg/testing';
import jwt from 'jsonwebtoken';

// Configuration is read once, when the app module is loaded: set it up before the dynamic import below.
const ns = `t-admin-${randomBytes(4).toString('hex')}`;
const dataDir = mkdtempSync(join(tmpdir(), 'gg-admin-data-'));
const uiDir = mkdtempSync(join(tmpdir(), 'gg-admin-ui-'));
const JWT_SECRET = randomBytes(36).toString('base64url');
Object.assign(process.env, {
  REDIS_URL: testRedisUrl(),
  REDIS_NAMESPACE: ns,
  DATA_DIR: dataDir,
  ADMIN_UI_DIR: uiDir,
  JWT_SECRET,
  LOG_LEVEL: 'error',
  TZ: 'UTC',
  METRICS_PORT: '0',
});
mkdirSync(join(uiDir, '_app/immutable'), { recursive: true });
writeFileSync(
  join(uiDir, 'index.html'),
  '<!doctype html><html><body><div id="svelte">admin-ui-index</div></body></html>',
);
writeFileSync(join(uiDir, '_app/immutable/app.abc123.js'), 'export const x = 1;');

/* ---------- a fake auth and key-pool speaking Nest's Redis protocol ---------- */

type Data = Record<string, unknown> & { caller?: { userId: string; role: string } };
type Handler = (data: Data) => unknown;

class FakePeer {
  readonly calls: { pattern: string; data: Data }[] = [];
  /** the apps seal every transport message with TRANSPORT_KEY: so does this peer */
  private seal!: import('@gg/nest-common').TransportSeal;
  readonly silent = new Set<string>();
  private readonly sub = testRedis({ lazyConnect: true });
  private readonly pub = testRedis({ lazyConnect: true });

  constructor(private readonly handlers: Record<string, Handler>) {}

  async start(): Promise<void> {
    await Promise.all([this.sub.connect(), this.pub.connect()]);
    this.seal = (await import('@gg/nest-common')).transportSeal();
    this.sub.on('message', (channel: string, raw: string) => void this.answer(channel, raw));
    await this.sub.subscribe(...Object.keys(this.handlers).map((p) => `${ns}:${p}`));
  }

  /** Request on `<ns>:<pattern>` as `{pattern, data, id}`; reply on `<ns>:<pattern>.reply`. */
  private async answer(channel: string, raw: string): Promise<void> {
    const pattern = channel.slice(ns.length + 1);
    const opened = this.seal.open(JSON.parse(raw));
    if (!opened.ok) return;
    const { id, data } = opened.packet as { id: string; data: Data };
    this.calls.push({ pattern, data });
    if (this.silent.has(pattern)) return;
    let reply: object;
    try {
      reply = { id, response: (await this.handlers[pattern](data)) ?? null, isDisposed: true };
    } catch (err) {
      reply = { id, err, isDisposed: true };
    }
    await this.pub.publish(`${channel}.reply`, JSON.stringify(this.seal.seal(reply)));
  }

  /** An event as Nest's ClientRedis emits it: `{pattern, data}` on `<ns>:<pattern>`. */
  async emit(pattern: string, data: unknown): Promise<void> {
    await this.pub.publish(`${ns}:${pattern}`, JSON.stringify(this.seal.seal({ pattern: `${ns}:${pattern}`, data })));
  }

  callsOf(pattern: string): Data[] {
    return this.calls.filter((c) => c.pattern === pattern).map((c) => c.data);
  }

  async stop(): Promise<void> {
    this.sub.disconnect();
    await this.pub.quit();
  }
}

const PASSWORD = 'correct-horse-battery';
const users = {
  alice: { id: 'u-alice', username: 'alice', role: 'user' as const },
  root: { id: 'u-root', username: 'root', role: 'admin' as const },
};
type TestUser = (typeof users)[keyof typeof users];
const refreshTokens = new Map<string, TestUser>();

function accessToken(user: TestUser, options: jwt.SignOptions = {}, secret = JWT_SECRET): string {
  return jwt.sign({ sub: user.id, username: user.username, role: user.role, tv: 0, sid: `s-${user.id}` }, secret, {
    algorithm: 'HS256',
    issuer: 'gemini-gateway',
    audience: 'gemini-gateway-admin',
    expiresIn: 900,
    ...options,
  });
}

function session(user: TestUser): object {
  const refreshToken = `rt-${randomBytes(16).toString('hex')}`;
  refreshTokens.set(refreshToken, user);
  return { accessToken: accessToken(user), expiresIn: 900, refreshToken, refreshExpiresIn: 1209600 };
}

const unauthorized = (message: string): object => ({ code: 'UNAUTHORIZED', message });
const byId = (id: string | undefined): TestUser | undefined => Object.values(users).find((u) => u.id === id);

/** The claims of the caller proof the admin put in a payload (the real auth also checks its signature). */
function proofOf(d: Data): { sub: string; role: string; tv: number; sid: string; pat: string } | undefined {
  const proof = d['proof'];
  if (typeof proof !== 'string') return undefined;
  return JSON.parse(Buffer.from(proof.split('.')[0], 'base64url').toString()) as {
    sub: string;
    role: string;
    tv: number;
    sid: string;
    pat: string;
  };
}
/** What a payload proves about its caller, as the tests compare it. */
const proven = (d: Data | undefined) => {
  const c = d ? proofOf(d) : undefined;
  return c && { userId: c.sub, role: c.role, tokenVersion: c.tv, sessionId: c.sid };
};

const peer = new FakePeer({
  'auth.ping': () => ({ ok: true }),
  'auth.login': (d) => {
    const user = users[d['username'] as keyof typeof users];
    if (!user || d['password'] !== PASSWORD) throw unauthorized('wrong username or password');
    return session(user);
  },
  'auth.refresh': (d) => {
    const user = refreshTokens.get(d['refreshToken'] as string);
    if (!user) throw unauthorized('refresh token is not valid');
    refreshTokens.delete(d['refreshToken'] as string);
    return session(user);
  },
  'auth.logout': (d) => void refreshTokens.delete(d['refreshToken'] as string),
  'auth.me': (d) => byId(proofOf(d)?.sub),
  'auth.users.list': () => Object.values(users),
  'auth.users.create': (d) => ({
    id: 'u-new',
    username: d['username'],
    role: d['role'],
    isActive: true,
    createdAt: '2030-01-01T00:00:00.000Z',
  }),
  'auth.keys.list': () => [],
  'auth.logs.query': () => ({ items: [], nextCursor: null }),
  'auth.stats': (d) => ({ window: d['window'], bucketSeconds: 60, series: [], topKeys: [] }),
  'pool.keys.list': () => [],
  'pool.keys.add': () => ({ added: [], duplicates: 0, invalid: 0 }),
});

/* ---------- HTTP helpers ---------- */

let app: INestApplication;
let base: string;
/** the internal METRICS_PORT of /healthz, /readyz, /metrics */
let probes: string;
const probe = (path: string): Promise<Response> => fetch(`${probes}${path}`);

interface Call {
  method?: string;
  token?: string;
  body?: unknown;
  cookie?: string;
}

function call(path: string, { method = 'GET', token, body, cookie }: Call = {}): Promise<Response> {
  const headers: Record<string, string> = {};
  if (token) headers['authorization'] = `Bearer ${token}`;
  if (cookie) headers['cookie'] = cookie;
  if (body !== undefined) headers['content-type'] = 'application/json';
  return fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

async function login(username: string): Promise<{ token: string; cookie: string }> {
  const res = await call('/api/auth/login', { method: 'POST', body: { username, password: PASSWORD } });
  expect(res.status).toBe(200);
  const token = ((await res.json()) as { access_token: string }).access_token;
  return { token, cookie: res.headers.getSetCookie()[0].split(';')[0] };
}

function log(userId: string, id: string): RequestLog {
  return {
    id,
    at: '2030-01-01T00:00:00.000Z',
    userId,
    authKeyId: `k-${userId}`,
    poolKeyId: 'p-1',
    method: 'generateContent',
    model: 'gemini-2.5-flash',
    stream: false,
    status: 200,
    attempts: 1,
    latencyMs: 12,
    ttfbMs: 10,
    promptTokens: 3,
    outputTokens: 5,
  };
}

/** Read SSE `data:` events until `count` arrived or the deadline passed. */
async function readEvents(body: ReadableStream<Uint8Array>, count: number, deadlineMs = 5000): Promise<unknown[]> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const events: unknown[] = [];
  let buffer = '';
  const deadline = Date.now() + deadlineMs;
  try {
    while (events.length < count && Date.now() < deadline) {
      const chunk = await Promise.race([
        reader.read(),
        new Promise<null>((r) => setTimeout(() => r(null), Math.max(0, deadline - Date.now()))),
      ]);
      if (!chunk || chunk.done) break;
      buffer += decoder.decode(chunk.value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = frame.split('\n').find((l) => l.startsWith('data: '));
        if (data) events.push(JSON.parse(data.slice(6)));
      }
    }
  } finally {
    reader.releaseLock();
  }
  return events;
}

jest.setTimeout(30_000);

beforeAll(async () => {
  await peer.start();
  const { createAdminApp } = await import('./app');
  const { getConfig } = await import('@gg/config');
  app = await createAdminApp(getConfig());
  await app.listen(0, '127.0.0.1');
  base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  const { ProbesServer } = await import('@gg/nest-common');
  probes = `http://127.0.0.1:${app.get(ProbesServer).port}`;
});

afterAll(async () => {
  await app?.close();
  await peer.stop();
  const redis = testRedis();
  const keys = await redis.keys(`${ns}:*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(uiDir, { recursive: true, force: true });
});

/* ---------- tests ---------- */

describe('admin session', () => {
  it('login answers the token shape and sets an HttpOnly, SameSite=Strict refresh cookie', async () => {
    const res = await call('/api/auth/login', { method: 'POST', body: { username: 'alice', password: PASSWORD } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ access_token: expect.any(String), token_type: 'bearer', expires_in: 900 });
    expect(res.headers.get('cache-control')).toBe('no-store');
    const cookie = res.headers.getSetCookie()[0];
    expect(cookie).toMatch(/^gg_refresh=rt-[0-9a-f]+;/);
    expect(cookie).toContain('Max-Age=1209600');
    expect(cookie).toContain('Path=/api/auth');
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(cookie).not.toContain('Secure'); // plain http here
    expect(peer.callsOf('auth.login').at(-1)).toEqual({
      username: 'alice',
      password: PASSWORD,
      ip: expect.any(String),
    });

    const wrong = await call('/api/auth/login', { method: 'POST', body: { username: 'alice', password: 'nope' } });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ message: 'wrong username or password' });
  });

  it('refresh rotates the cookie; a missing or spent cookie is 401 and cleared', async () => {
    const { cookie } = await login('alice');
    const res = await call('/api/auth/refresh', { method: 'POST', cookie });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ token_type: 'bearer', expires_in: 900 });
    const rotated = res.headers.getSetCookie()[0].split(';')[0];
    expect(rotated).toMatch(/^gg_refresh=rt-/);
    expect(rotated).not.toBe(cookie);

    for (const sent of [cookie, undefined]) {
      const bad = await call('/api/auth/refresh', { method: 'POST', cookie: sent });
      expect(bad.status).toBe(401);
      const cleared = bad.headers.getSetCookie()[0];
      expect(cleared).toMatch(/^gg_refresh=;/);
      expect(cleared).toContain('Expires=Thu, 01 Jan 1970');
    }
  });

  it('logout answers 204, clears the cookie and tells auth to revoke the token', async () => {
    const { cookie } = await login('alice');
    const res = await call('/api/auth/logout', { method: 'POST', cookie });
    expect(res.status).toBe(204);
    expect(res.headers.getSetCookie()[0]).toMatch(/^gg_refresh=;/);
    expect(peer.callsOf('auth.logout').at(-1)).toEqual({ refreshToken: cookie.split('=')[1] });
    expect((await call('/api/auth/refresh', { method: 'POST', cookie })).status).toBe(401);
  });
});

describe('admin authentication and roles', () => {
  it('/api/auth/me needs a valid HS256 token of ours', async () => {
    const alice = users.alice;
    const none = jwt.sign({ sub: alice.id, username: 'alice', role: 'admin', tv: 0 }, '', {
      algorithm: 'none',
      issuer: 'gemini-gateway',
      audience: 'gemini-gateway-admin',
    });
    const cases: [string | undefined, string][] = [
      [undefined, 'missing or invalid access token'],
      [none, 'missing or invalid access token'],
      [accessToken(alice, { expiresIn: -5 }), 'access token expired'],
      [accessToken(alice, {}, randomBytes(36).toString('base64url')), 'missing or invalid access token'],
    ];
    for (const [token, message] of cases) {
      const res = await call('/api/auth/me', { token });
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ statusCode: 401, message });
    }
    const ok = await call('/api/auth/me', { token: (await login('alice')).token });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ id: 'u-alice', username: 'alice', role: 'user' });
    // auth is sent a caller proof, never a bare caller
    expect(peer.callsOf('auth.me').at(-1)).toEqual({ proof: expect.any(String) });
    expect(proven(peer.callsOf('auth.me').at(-1))).toEqual({
      userId: 'u-alice',
      role: 'user',
      tokenVersion: 0,
      sessionId: 's-u-alice',
    });
  });

  it('answers 403 to a user on admin-only routes without asking auth or key-pool', async () => {
    const { token } = await login('alice');
    const before = peer.calls.length;
    for (const [method, path] of [
      ['GET', '/api/keys'],
      ['POST', '/api/keys/reset'],
      ['GET', '/api/users'],
      ['DELETE', '/api/users/u-root'],
    ]) {
      const res = await call(path, { method, token });
      expect(res.status).toBe(403);
    }
    expect(peer.calls.length).toBe(before);
    const list = await call('/api/users', { token: (await login('root')).token });
    expect(list.status).toBe(200);
    expect(await list.json()).toHaveLength(2);
  });

  it("answers 403 when a user asks for another user's keys", async () => {
    const { token } = await login('alice');
    expect((await call('/api/auth-keys?userId=u-root', { token })).status).toBe(403);
    expect((await call('/api/auth-keys', { token })).status).toBe(200);
    expect(peer.callsOf('auth.keys.list').at(-1)).toEqual({ proof: expect.any(String), userId: 'u-alice' });
    expect(proven(peer.callsOf('auth.keys.list').at(-1))).toMatchObject({ userId: 'u-alice', role: 'user' });
  });
});

describe('admin validation and forwarding', () => {
  it('answers 400 with a clear message for bad input', async () => {
    const { token } = await login('root');
    const cases: [string, string, unknown, RegExp][] = [
      [
        'POST',
        '/api/users',
        { username: 'bob', password: 'longenough', role: 'root' },
        /role must be "admin" or "user"/,
      ],
      ['POST', '/api/auth/login', { username: 'alice' }, /password/],
      ['POST', '/api/keys', { keys: 42 }, /keys must be a non-empty string/],
      ['POST', '/api/keys', { keys: ['ok'], extra: 1 }, /property extra should not exist/],
      ['GET', '/api/logs?limit=zero', undefined, /limit must be an integer/],
      ['GET', '/api/stats?window=2d', undefined, /window must be one of 1h, 24h, 7d/],
    ];
    for (const [method, path, body, message] of cases) {
      const res = await call(path, { method, token, body });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { message: string }).message).toMatch(message);
    }
  });

  it('POST /api/keys takes a string or an array and hands it to key-pool as is', async () => {
    const { token } = await login('root');
    for (const keys of ['AIzaA\nAIzaB,AIzaC', ['AIzaA', 'AIzaB']]) {
      const res = await call('/api/keys', { method: 'POST', token, body: { keys } });
      expect(res.status).toBe(201);
      expect(await res.json()).toEqual({ added: [], duplicates: 0, invalid: 0 });
      expect(peer.callsOf('pool.keys.add').at(-1)).toEqual({ keys, proof: expect.any(String) });
      expect(proven(peer.callsOf('pool.keys.add').at(-1))).toMatchObject({ userId: 'u-root', role: 'admin' });
    }
  });

  it("restricts a user's log query to their own logs", async () => {
    const { token } = await login('alice');
    const res = await call('/api/logs?limit=10&status=429', { token });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ items: [], nextCursor: null });
    expect(peer.callsOf('auth.logs.query').at(-1)).toEqual({
      query: { limit: 10, status: 429, userId: 'u-alice' },
      proof: expect.any(String),
    });
  });
});

describe('admin log stream', () => {
  it('streams new logs to a client authenticated by a single-use ?ticket=, only its own, and cleans up', async () => {
    expect((await call('/api/logs/stream')).status).toBe(401);
    const { token } = await login('alice');
    expect((await call(`/api/logs/stream?access_token=${token}`)).status).toBe(401);
    const issued = await call('/api/streams/ticket', { method: 'POST', token, body: { stream: 'logs' } });
    expect(issued.status).toBe(200);
    const { ticket } = (await issued.json()) as { ticket: string };
    const abort = new AbortController();
    const res = await fetch(`${base}/api/logs/stream?ticket=${ticket}`, { signal: abort.signal });
    try {
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      expect(res.headers.get('cache-control')).toContain('no-cache');
      expect(res.headers.get('x-accel-buffering')).toBe('no');

      await peer.emit(AuthEvent.LogsAppended, [log('u-root', 'l-1'), log('u-alice', 'l-2')]);
      await peer.emit(AuthEvent.LogsAppended, [log('u-alice', 'l-3')]);
      const events = await readEvents(res.body!, 2);
      expect(events.map((e) => (e as RequestLog).id)).toEqual(['l-2', 'l-3']);
      // with the request id the client saw (this id has no client suffix: the same)
      expect(events[0]).toEqual({ ...log('u-alice', 'l-2'), requestId: 'l-2' });
    } finally {
      abort.abort();
    }
    await waitFor(
      async () => /admin_log_stream_clients 0/.test(await (await probe('/metrics')).text()),
      5000,
      'the stream client to be gone',
    );
  });
});

describe('admin SPA and probes', () => {
  it('serves index.html for client routes, immutable assets with a long cache, and leaves /api alone', async () => {
    const page = await call('/status');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('admin-ui-index');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');

    const asset = await call('/_app/immutable/app.abc123.js');
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');

    const api = await call('/api/nothing-here', { token: (await login('alice')).token });
    expect(api.status).toBe(404);
    expect(api.headers.get('content-type')).toContain('application/json');
  });

  it('answers the probes on the internal port only; ready while auth answers', async () => {
    expect((await probe('/healthz')).status).toBe(200);
    const ready = await probe('/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ok', checks: { redis: true, auth: true } });
    expect((await probe('/metrics')).headers.get('content-type')).toContain('text/plain');
    for (const path of ['/metrics', '/readyz', '/healthz'])
      expect([path, (await call(path)).status]).toEqual([path, 404]);
  });

  it('turns a silent auth into 503 with a clear message, and into not ready', async () => {
    const { token } = await login('alice');
    peer.silent.add('auth.stats');
    peer.silent.add('auth.ping');
    try {
      const [res, ready] = await Promise.all([call('/api/stats?window=1h', { token }), probe('/readyz')]);
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect(await res.json()).toEqual({
        statusCode: 503,
        code: 'UNAVAILABLE',
        message: 'the auth service did not answer in time',
      });
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ checks: { redis: true, auth: false } });
    } finally {
      peer.silent.clear();
    }
  });
});
