import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { GoogleGenAI } from '@google/genai';
import type { AddPoolKeysResult } from '@gg/contracts';
import { startMockGemini, Stack, testRedisUrl, type MockGemini } from '@gg/testing';
import Redis from 'ioredis';
import { createUserKey, fakeGeminiKey, poll, poolKeys, userKey } from './helpers';

delete process.env.GOOGLE_GENAI_USE_VERTEXAI;
jest.setTimeout(90_000);

const REDIS_URL = testRedisUrl();

/** Everything a client of the Redis server could see: every message published and every command sent. */
class RedisWitness {
  readonly messages: { channel: string; message: Buffer }[] = [];
  readonly commands: string[] = [];
  private sub?: Redis;
  private base?: Redis;
  private monitor?: Awaited<ReturnType<Redis['monitor']>>;

  async start(): Promise<void> {
    this.sub = new Redis(REDIS_URL);
    this.sub.on('pmessageBuffer', (_p: Buffer, channel: Buffer, message: Buffer) =>
      this.messages.push({ channel: channel.toString(), message }),
    );
    await this.sub.psubscribe('*');
    this.base = new Redis(REDIS_URL);
    this.monitor = await this.base.monitor();
    this.monitor.on('monitor', (_time: string, args: string[]) => this.commands.push(args.join(' ')));
  }

  stop(): void {
    this.monitor?.disconnect();
    this.base?.disconnect();
    this.sub?.disconnect();
  }
}

/** Every value of every key under `ns:` (strings, hashes, lists, sets, sorted sets, streams), with its name. */
async function dumpNamespace(redis: Redis, ns: string): Promise<{ key: string; value: Buffer }[]> {
  const out: { key: string; value: Buffer }[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${ns}:*`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const type = await redis.type(key);
      const parts: Buffer[] = [Buffer.from(key)];
      if (type === 'string') parts.push((await redis.getBuffer(key)) ?? Buffer.alloc(0));
      else if (type === 'hash')
        parts.push(
          ...(await redis.hgetallBuffer(key).then((h) => Object.entries(h).flatMap(([f, v]) => [Buffer.from(f), v]))),
        );
      else if (type === 'list') parts.push(...(await redis.lrangeBuffer(key, 0, -1)));
      else if (type === 'set') parts.push(...(await redis.smembersBuffer(key)));
      else if (type === 'zset') parts.push(...(await redis.zrangeBuffer(key, 0, -1)));
      else if (type === 'stream') {
        for (const [, fields] of await redis.xrangeBuffer(key, '-', '+')) parts.push(...fields);
      }
      out.push({ key, value: Buffer.concat(parts.flatMap((p) => [p, Buffer.from('\n')])) });
    }
  } while (cursor !== '0');
  return out;
}

/** The secret as it could show: as is, and base64 of it (a payload encoded rather than encrypted). */
function shapesOf(secret: string): Buffer[] {
  return [
    Buffer.from(secret),
    Buffer.from(Buffer.from(secret).toString('base64')),
    Buffer.from(Buffer.from(secret).toString('base64url')),
  ];
}

describe.each(['sqlite', 'redis'] as const)('nothing secret in Redis (DATABASE_TYPE=%s)', (databaseType) => {
  let mock: MockGemini;
  let stack: Stack;
  let redis: Redis;
  const witness = new RedisWitness();
  const pool = [fakeGeminiKey(), fakeGeminiKey()];
  const secrets: Record<string, string> = {};
  let poolKeyId = '';

  beforeAll(async () => {
    mock = await startMockGemini();
    redis = new Redis(REDIS_URL);
    await witness.start();
    stack = await Stack.start({ geminiBaseUrl: mock.url, databaseType });
  });

  afterAll(async () => {
    witness.stop();
    await stack?.stop();
    await mock?.close();
    redis?.disconnect();
  });

  it('a whole session (login, refresh, pool keys, a user key, SDK calls, logout) shows no secret on Redis', async () => {
    secrets.password = stack.adminPassword;
    pool.forEach((k, i) => (secrets[`pool key ${i}`] = k));
    // login: the password goes admin -> auth, the tokens come back
    const login = await fetch(`${stack.adminUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: stack.adminUsername, password: stack.adminPassword }),
    });
    expect(login.status).toBe(200);
    secrets['access token'] = ((await login.json()) as { access_token: string }).access_token;
    const cookie = login.headers.getSetCookie()[0].split(';')[0];
    secrets['refresh token'] = decodeURIComponent(cookie.slice(cookie.indexOf('=') + 1));
    const refreshed = await fetch(`${stack.adminUrl}/api/auth/refresh`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(refreshed.status).toBe(200);
    const token = ((await refreshed.json()) as { access_token: string }).access_token;
    secrets['refreshed access token'] = token;
    const cookie2 = refreshed.headers.getSetCookie()[0].split(';')[0];
    secrets['rotated refresh token'] = decodeURIComponent(cookie2.slice(cookie2.indexOf('=') + 1));

    // pool keys: admin -> key-pool, then in every snapshot key-pool -> gateways
    const added = await stack.api<AddPoolKeysResult>(token, 'POST', '/api/keys', { keys: pool.join('\n') });
    expect(added.status).toBe(201);
    expect(added.body.added).toHaveLength(2);
    poolKeyId = added.body.added[0].id;
    // a key check: key-pool calls Google with the secret (BullMQ runs the periodic ones the same way)
    expect((await stack.api(token, 'POST', `/api/keys/${added.body.added[0].id}/check`)).status).toBeLessThan(300);
    // a user key: created by auth, shown once through admin
    const key = await createUserKey(stack, token, 'redis-secrets');
    secrets['user key'] = key.key;
    await stack.gatewayReady();

    const ai = new GoogleGenAI({ apiKey: key.key, httpOptions: { baseUrl: stack.gatewayUrl } });
    const r = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'hello' });
    expect(r.text).toBeTruthy();
    let streamed = '';
    for await (const chunk of await ai.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'count' }))
      streamed += chunk.text ?? '';
    expect(streamed).toBeTruthy();
    // the upstream saw the pool keys: they really travelled key-pool -> gateway
    expect(mock.requests.map((q) => q.headers['x-goog-api-key'])).toEqual(
      expect.arrayContaining([expect.stringMatching(/^AIza/)]),
    );
    await poll(
      async () => (await userKey(stack, token, key.id))?.callCount ?? 0,
      (n) => n === 2,
      15_000,
      'both calls counted',
    );

    const logout = await fetch(`${stack.adminUrl}/api/auth/logout`, {
      method: 'POST',
      headers: { cookie: cookie2, authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(logout.status).toBeLessThan(300);
    // a snapshot push or two more, then look
    await new Promise((r) => setTimeout(r, 300));

    const ours = witness.messages.filter((m) => m.channel.startsWith(`${stack.namespace}:`));
    // the test can fail: the run did publish (RPCs, replies, snapshots, events) in this namespace
    expect(ours.length).toBeGreaterThan(20);
    expect(ours.map((m) => m.channel)).toEqual(
      expect.arrayContaining([`${stack.namespace}:pool.snapshot.changed`, `${stack.namespace}:auth.login`]),
    );
    const stored = await dumpNamespace(redis, stack.namespace);
    expect(stored.length).toBeGreaterThan(0);
    const found: string[] = [];
    for (const [what, secret] of Object.entries(secrets)) {
      for (const shape of shapesOf(secret)) {
        for (const m of witness.messages)
          if (m.message.includes(shape) || m.channel.includes(secret)) found.push(`${what} published on ${m.channel}`);
        for (const c of witness.commands)
          if (c.includes(shape.toString())) found.push(`${what} in a command: ${c.slice(0, 60)}…`);
        for (const s of stored) if (s.value.includes(shape)) found.push(`${what} stored under ${s.key}`);
      }
    }
    expect(found).toEqual([]);
  });

  it('answers no request from a Redis client without TRANSPORT_KEY', async () => {
    const sub = new Redis(REDIS_URL);
    const replies: string[] = [];
    sub.on('message', (c: string, m: string) => replies.push(`${c} ${m}`));
    // Snapshot: gateways also ask it every few seconds (their sealed replies show); List: only admin asks it
    const snapshot = `${stack.namespace}:pool.snapshot`;
    const list = `${stack.namespace}:pool.keys.list`;
    await sub.subscribe(`${snapshot}.reply`, `${list}.reply`);
    try {
      // Nest's own wire format, unsealed: key-pool would answer the Snapshot with every pool secret in clear
      await redis.publish(snapshot, JSON.stringify({ pattern: snapshot, data: {}, id: 'forged-1' }));
      await redis.publish(list, JSON.stringify({ pattern: list, data: {}, id: 'forged-2' }));
      await new Promise((r) => setTimeout(r, 1500)); // no reply may come: a fixed window proves an absence
      expect(replies.filter((r) => r.startsWith(`${list}.reply`))).toEqual([]);
      for (const r of replies) expect(r).toMatch(/^\S+ "gg1\.[A-Za-z0-9_-]+"$/);
    } finally {
      sub.disconnect();
    }
  });

  it('acts on no event from a Redis client without TRANSPORT_KEY', async () => {
    // an event as a gateway sends it, unsealed: "this key is invalid" would disable the key
    const outcome = `${stack.namespace}:pool.outcome`;
    const forged = {
      gatewayId: 'forger',
      outcomes: [
        { keyId: poolKeyId, model: null, kind: 'invalid', status: 400, at: Date.now(), reason: '400 API_KEY_INVALID' },
      ],
    };
    await redis.publish(outcome, JSON.stringify({ pattern: outcome, data: forged }));
    await new Promise((r) => setTimeout(r, 1000)); // the forged outcome must have no effect: a fixed window proves it
    expect((await poolKeys(stack, await stack.login())).find((k) => k.id === poolKeyId)?.status).toBe('active');
  });

  it('serves /metrics and /readyz on the internal port only, and keeps DATA_DIR private', async () => {
    for (const app of ['gateway', 'admin'] as const) {
      for (const path of ['/metrics', '/readyz']) {
        expect([app, path, (await fetch(`${stack.urlOf(app)}${path}`)).status]).toEqual([app, path, 404]);
      }
      expect((await fetch(`${stack.metricsUrlOf(app)}/metrics`)).status).toBe(200);
    }
    const modes: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        const st = statSync(path);
        modes.push(
          `${st.isDirectory() ? 'directory' : 'file'} ${path.slice(stack.dataDir.length)} ${(st.mode & 0o777).toString(8)}`,
        );
        if (st.isDirectory()) walk(path);
      }
    };
    walk(stack.dataDir);
    expect(modes.length).toBeGreaterThan(0);
    for (const m of modes) expect(m).toMatch(m.startsWith('directory') ? / 700$/ : / 600$/);
  });
});

/** The local TCP ports of the sockets process `pid` holds (Linux /proc). */
function localPortsOf(pid: number): Set<number> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch {
      // closed meanwhile
    }
  }
  const ports = new Set<number>();
  for (const table of ['tcp', 'tcp6']) {
    for (const line of readFileSync(`/proc/${pid}/net/${table}`, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length > 9 && inodes.has(cols[9])) ports.add(parseInt(cols[1].split(':')[1], 16));
    }
  }
  return ports;
}

describe('a stack logged in to Redis as an ACL user limited to its namespace', () => {
  let mock: MockGemini;
  let stack: Stack;
  let admin: Redis;
  const namespace = Stack.newNamespace();
  const user = `gg-test-${randomBytes(4).toString('hex')}`;
  const password = randomBytes(16).toString('hex');

  beforeAll(async () => {
    mock = await startMockGemini();
    admin = new Redis(REDIS_URL);
    // what docker/compose.yaml creates: its keys and channels only, no admin commands
    await admin.call(
      'ACL',
      'SETUSER',
      user,
      'on',
      `>${password}`,
      `~${namespace}:*`,
      `&${namespace}:*`,
      '+@all',
      '-@admin',
    );
    const url = new URL(REDIS_URL);
    url.username = user;
    url.password = password;
    stack = await Stack.start({ geminiBaseUrl: mock.url, namespace, redisUrl: url.toString().replace(/\/$/, '') });
  });

  afterAll(async () => {
    await stack?.stop();
    await admin?.call('ACL', 'DELUSER', user);
    admin?.disconnect();
    await mock?.close();
  });

  it('logs in, adds pool keys, serves and counts a request through the gateway', async () => {
    // the user really is limited: a key outside the namespace is refused to it
    const limited = new Redis(`redis://${user}:${password}@${new URL(REDIS_URL).host}`);
    try {
      await expect(limited.set('outside-the-namespace', '1')).rejects.toThrow(/NOPERM/);
    } finally {
      limited.disconnect();
    }
    const token = await stack.login();
    const added = await stack.api<AddPoolKeysResult>(token, 'POST', '/api/keys', { keys: [fakeGeminiKey()] });
    expect(added.status).toBe(201);
    expect(await poolKeys(stack, token)).toHaveLength(1);
    const key = await createUserKey(stack, token, 'acl');
    await stack.gatewayReady();
    const ai = new GoogleGenAI({ apiKey: key.key, httpOptions: { baseUrl: stack.gatewayUrl } });
    expect((await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'hello' })).text).toBeTruthy();
    await poll(
      async () => (await userKey(stack, token, key.id))?.callCount ?? 0,
      (n) => n === 1,
      15_000,
      'the call counted',
    );
    // every Redis connection of every app (transport, BullMQ, the apps' own clients) is logged in as that user
    const clients = String(await admin.call('CLIENT', 'LIST'))
      .split('\n')
      .filter(Boolean)
      .map((l) => ({ port: Number(/ addr=[^ ]*:(\d+) /.exec(l)?.[1]), user: / user=(\S+)/.exec(l)?.[1] }));
    for (const p of stack.procs) {
      const ports = localPortsOf(p.child.pid!);
      const mine = clients.filter((c) => ports.has(c.port));
      expect([p.name, mine.length > 0]).toEqual([p.name, true]);
      for (const c of mine) expect([p.name, c.user]).toEqual([p.name, user]);
    }
    // every app reached Redis as that user (readiness checks Redis in each)
    for (const app of ['auth', 'key-pool', 'gateway', 'admin'] as const) {
      expect([app, (await fetch(`${stack.metricsUrlOf(app)}/readyz`)).status]).toEqual([app, 200]);
    }
  });
});
