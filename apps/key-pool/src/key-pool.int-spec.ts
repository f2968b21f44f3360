/**
 * key-pool against a real Redis and real storage (SQLite file and Redis driver), with a tiny local HTTP server
 * standing in for Google. Each boot loads the app in an isolated module registry, so that the configuration
 * (read once per registry) comes from the environment set just before.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { ClientProxyFactory, type ClientProxy } from '@nestjs/microservices';
import { callerProofKey, redisTransport, signCallerProof, TransportSeal, type ProvenCaller } from '@gg/nest-common';
import IORedis from 'ioredis';
import { poll, testRedisUrl } from '@gg/testing';
import { firstValueFrom, timeout } from 'rxjs';
import {
  nsPattern,
  PoolEvent,
  PoolPattern,
  type AddPoolKeysResult,
  type AttemptOutcome,
  type KeyCheckResult,
  type PoolKey,
  type PoolSnapshot,
  type RpcErrorPayload,
} from '@gg/contracts';

jest.setTimeout(30_000);

const REDIS_URL = testRedisUrl();
/** every transport message is sealed with it: key-pool and this test's client share it, like the apps do */
const TRANSPORT_KEY = randomBytes(32);
/** the admin signs caller proofs with a key derived from it; key-pool checks them on the admin's RPCs */
const JWT_SECRET = randomBytes(32).toString('hex');
const ADMIN: ProvenCaller = { userId: 'u-admin', role: 'admin', tokenVersion: 0, sessionId: 's-admin' };
/** the RPCs the admin makes for an admin: they carry a caller proof */
const ADMIN_PATTERNS = new Set<string>([
  PoolPattern.List,
  PoolPattern.Add,
  PoolPattern.Delete,
  PoolPattern.Reset,
  PoolPattern.ResetAll,
  PoolPattern.Check,
]);
const secret = (tag: string) => `AIzaSyTest${tag.padEnd(6, '0')}${randomBytes(12).toString('base64url')}`;

/* ---------- a stand-in for Google: GET /v1beta/models accepts the keys in `goodKeys` ---------- */

const goodKeys = new Set<string>();
/** How long the stand-in takes to accept a good key. */
let goodKeyDelayMs = 0;
let google: Server;
let googleUrl: string;

function startGoogle(): Promise<void> {
  google = createServer((req, res) => {
    const key = String(req.headers['x-goog-api-key'] ?? '');
    if (req.method !== 'GET' || !req.url?.startsWith('/v1beta/models')) {
      res.writeHead(404).end();
    } else if (goodKeys.has(key)) {
      const models = JSON.stringify({ models: [{ name: 'models/gemini-2.5-flash' }] });
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(models), goodKeyDelayMs);
    } else {
      // like Google, echo something of the key back: key-pool must never pass it on
      res.writeHead(400, { 'content-type': 'application/json; charset=UTF-8' }).end(
        JSON.stringify({
          error: {
            code: 400,
            message: `API key not valid. Please pass a valid API key. (${key})`,
            status: 'INVALID_ARGUMENT',
            details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID' }],
          },
        }),
      );
    }
  });
  return new Promise((resolve) =>
    google.listen(0, '127.0.0.1', () => {
      googleUrl = `http://127.0.0.1:${(google.address() as AddressInfo).port}`;
      resolve();
    }),
  );
}

/* ---------- booting key-pool ---------- */

interface Stack {
  app: INestApplication;
  httpUrl: string;
}

async function boot(env: Record<string, string>): Promise<Stack> {
  Object.assign(process.env, env);
  let app!: INestApplication;
  // the registry stays isolated while the app starts, so that the packages Nest loads lazily (class-validator,
  // class-transformer, ioredis) are the same copies the app's own modules use
  await jest.isolateModulesAsync(async () => {
    const { NestFactory } = require('@nestjs/core') as typeof import('@nestjs/core');
    const { KeyPoolModule } = require('./key-pool.module') as typeof import('./key-pool.module');
    const { setupKeyPoolApp } = require('./app.setup') as typeof import('./app.setup');
    const { getConfig } = require('@gg/config') as typeof import('@gg/config');
    app = await NestFactory.create(KeyPoolModule, { logger: ['error', 'warn'] });
    setupKeyPoolApp(app, getConfig());
    await app.startAllMicroservices();
    await app.listen(0, '127.0.0.1');
  });
  return { app, httpUrl: `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}` };
}

function baseEnv(namespace: string, dataDir: string, databaseType: 'sqlite' | 'redis'): Record<string, string> {
  return {
    TZ: 'UTC',
    NODE_ENV: 'test',
    LOG_LEVEL: 'error',
    REDIS_URL,
    REDIS_NAMESPACE: namespace,
    DATA_DIR: dataDir,
    TRANSPORT_KEY: TRANSPORT_KEY.toString('hex'),
    JWT_SECRET,
    DATABASE_TYPE: databaseType,
    GEMINI_BASE_URL: googleUrl,
    ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    HEALTH_CHECK_INTERVAL_SECONDS: '1',
    KEY_MAX_FAILURES: '3',
    GEMINI_API_KEYS: '',
  };
}

/* ---------- a client of key-pool, as the admin and the gateways are ---------- */

class PoolClient {
  readonly client: ClientProxy;
  private readonly sub = new IORedis(REDIS_URL);
  readonly snapshots: PoolSnapshot[] = [];
  private readonly seal = new TransportSeal(TRANSPORT_KEY);

  constructor(private readonly ns: string) {
    this.client = ClientProxyFactory.create(redisTransport({ redisUrl: REDIS_URL, transportKey: TRANSPORT_KEY }));
  }

  async start(): Promise<void> {
    await this.client.connect();
    const channel = nsPattern(this.ns, PoolEvent.SnapshotChanged);
    this.sub.on('message', (ch, message) => {
      if (ch !== channel) return;
      const opened = this.seal.open(JSON.parse(message));
      if (opened.ok) this.snapshots.push((opened.packet as { data: PoolSnapshot }).data);
    });
    await this.sub.subscribe(channel);
  }

  /** As the admin and the gateways send: the admin's RPCs with a caller proof of `as` (null: none). */
  send<T>(pattern: string, data: unknown = {}, as: ProvenCaller | null = ADMIN): Promise<T> {
    const proven =
      ADMIN_PATTERNS.has(pattern) && as && typeof data === 'object' && data !== null
        ? { ...data, proof: signCallerProof(callerProofKey(JWT_SECRET), as, nsPattern(this.ns, pattern), data) }
        : data;
    return firstValueFrom(this.client.send<T>(nsPattern(this.ns, pattern), proven).pipe(timeout(5000)));
  }

  emit(pattern: string, data: unknown): Promise<unknown> {
    return firstValueFrom(this.client.emit(nsPattern(this.ns, pattern), data));
  }

  async close(): Promise<void> {
    await this.client.close();
    this.sub.disconnect();
  }
}

/**
 * `poll` from @gg/testing with the argument order this file was written with, polling every 25 ms. The deadline is
 * generous because CI runs these next to builds and linters on two cores; a poll returns as soon as `ok` holds.
 */
const eventually = <T>(
  fn: () => Promise<T> | T,
  ok: (v: T) => boolean,
  what: string,
  deadlineMs = 15_000,
): Promise<T> => poll(fn, ok, deadlineMs, what, { intervalMs: 25 });

async function cleanRedis(namespace: string): Promise<void> {
  const redis = new IORedis(REDIS_URL);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${namespace}:*`, 'COUNT', 500);
    if (keys.length) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  redis.disconnect();
}

function outcome(keyId: string, o: Partial<AttemptOutcome>): AttemptOutcome {
  return { keyId, model: null, kind: 'success', status: 200, at: Date.now(), ...o };
}

function byId(list: PoolKey[], id: string): PoolKey {
  const k = list.find((x) => x.id === id);
  if (!k) throw new Error(`key ${id} not in the list`);
  return k;
}

/* ---------- the tests ---------- */

const namespaces: string[] = [];
const dirs: string[] = [];
const savedEnv = { ...process.env };

function scenario(): { ns: string; dir: string } {
  const ns = `t-${randomBytes(4).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'key-pool-'));
  namespaces.push(ns);
  dirs.push(dir);
  return { ns, dir };
}

beforeAll(startGoogle);

afterAll(async () => {
  await new Promise((r) => google.close(r));
  for (const ns of namespaces) await cleanRedis(ns);
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  process.env = savedEnv;
});

describe('key-pool (SQLite)', () => {
  const { ns, dir } = scenario();
  const startupKey = secret('start');
  const k1 = secret('one');
  const k2 = secret('two');
  const k3 = secret('three');
  let env: Record<string, string>;
  let stack: Stack;
  let pool: PoolClient;
  let ids: Record<string, string>;

  beforeAll(async () => {
    env = { ...baseEnv(ns, dir, 'sqlite'), GEMINI_API_KEYS: startupKey };
    stack = await boot(env);
    pool = new PoolClient(ns);
    await pool.start();
  });

  afterAll(async () => {
    await pool?.close();
    await stack?.app.close();
  });

  it('adds keys from a string and an array, counting duplicates and invalid ones, sending nothing upstream', async () => {
    let requests = 0;
    const count = () => requests++;
    google.on('request', count);
    const first = await pool.send<AddPoolKeysResult>(PoolPattern.Add, {
      keys: `${k1}\n${k2}, ${k1}  not-a-key\n\n${startupKey}`,
    });
    expect(first.added).toHaveLength(2);
    expect(first.duplicates).toBe(2); // k1 repeated, and the GEMINI_API_KEYS key added at start
    expect(first.invalid).toBe(1);
    const second = await pool.send<AddPoolKeysResult>(PoolPattern.Add, { keys: [k2, k3, 'short'] });
    expect(second.added).toHaveLength(1);
    expect(second).toMatchObject({ duplicates: 1, invalid: 1 });
    google.off('request', count);
    expect(requests).toBe(0);

    const [a1, a2] = first.added;
    ids = { k1: a1.id, k2: a2.id, k3: second.added[0].id };
    expect(a1).toMatchObject({
      masked: `${k1.slice(0, 4)}…${k1.slice(-4)}`,
      status: 'active',
      inUse: 0,
      failureCount: 0,
    });
    expect(JSON.stringify([first, second])).not.toMatch(new RegExp(`${k1}|${k2}|${k3}`));
  });

  it('lists and changes the pool only for a caller proof of an admin', async () => {
    await expect(pool.send(PoolPattern.List, {}, null)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await expect(pool.send(PoolPattern.ResetAll, { caller: ADMIN }, null)).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
    });
    await expect(pool.send(PoolPattern.Add, { keys: secret('x') }, { ...ADMIN, role: 'user' })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    const other = { ...ADMIN };
    const forged = {
      keys: secret('y'),
      proof: signCallerProof(
        callerProofKey('not-the-jwt-secret-not-the-jwt-secret'),
        other,
        nsPattern(ns, PoolPattern.Add),
        { keys: secret('y') },
      ),
    };
    await expect(pool.send(PoolPattern.Add, forged, null)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('rejects a malformed add', async () => {
    await expect(pool.send(PoolPattern.Add, { keys: 42 })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(pool.send(PoolPattern.Add, { keys: 'x', extra: true })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('lists every key masked, the start-up key included, with no secret anywhere in the answer', async () => {
    const list = await pool.send<PoolKey[]>(PoolPattern.List);
    expect(list).toHaveLength(4);
    const text = JSON.stringify(list);
    for (const s of [startupKey, k1, k2, k3]) {
      expect(text).not.toContain(s);
      expect(text).not.toContain(s.slice(4, -4));
      expect(list.some((k) => k.masked === `${s.slice(0, 4)}…${s.slice(-4)}`)).toBe(true);
    }
  });

  it('publishes a snapshot with the keys and their secrets, and answers the Snapshot RPC', async () => {
    const snap = await eventually(
      () => pool.snapshots.find((s) => s.keys.some((k) => k.secret === k3)),
      (s) => s !== undefined,
      'a snapshot event with the new keys',
    );
    expect(snap!.keys.map((k) => k.secret).sort()).toEqual([startupKey, k1, k2, k3].sort());
    const rpc = await pool.send<PoolSnapshot>(PoolPattern.Snapshot);
    expect(rpc.version).toBeGreaterThanOrEqual(snap!.version);
    expect(rpc.pausedUntil).toBe(0);
    expect(rpc.keys.find((k) => k.id === ids.k1)).toEqual({
      id: ids.k1,
      secret: k1,
      status: 'active',
      cooldownUntil: 0,
      modelCooldowns: {},
    });
  });

  it('puts a key in cooldown for the model of a 429 and disables a key found invalid', async () => {
    const now = Date.now();
    const before = (await pool.send<PoolSnapshot>(PoolPattern.Snapshot)).version;
    await pool.emit(PoolEvent.Outcome, {
      gatewayId: 'gw-a',
      outcomes: [
        outcome(ids.k1, {
          model: 'models/gemini-2.5-flash',
          kind: 'rate_limited',
          status: 429,
          retryDelayMs: 60_000,
          reason: '429 RESOURCE_EXHAUSTED',
        }),
        outcome(ids.k2, {
          model: 'gemini-2.5-pro',
          kind: 'invalid',
          status: 400,
          reason: '400 API_KEY_INVALID: API key not valid',
        }),
        outcome(ids.k3, { model: 'gemini-2.5-flash', kind: 'success', status: 200 }),
      ],
    });
    const list = await eventually(
      () => pool.send<PoolKey[]>(PoolPattern.List),
      (l) => byId(l, ids.k2).status === 'disabled',
      'the outcomes to be applied',
    );
    const k1v = byId(list, ids.k1);
    expect(k1v.status).toBe('cooldown');
    expect(k1v.cooldowns).toHaveLength(1);
    expect(k1v.cooldowns[0].model).toBe('gemini-2.5-flash');
    expect(Date.parse(k1v.cooldowns[0].until) - now).toBeGreaterThanOrEqual(59_000);
    expect(Date.parse(k1v.cooldowns[0].until) - now).toBeLessThanOrEqual(62_000);
    expect(k1v.totalRequests).toBe(1);
    expect(byId(list, ids.k2)).toMatchObject({
      status: 'disabled',
      lastError: expect.stringContaining('API key not valid'),
    });
    expect(byId(list, ids.k3)).toMatchObject({ status: 'active', totalRequests: 1, lastUsedAt: expect.any(String) });

    const snap = await eventually(
      () => pool.snapshots[pool.snapshots.length - 1],
      (s) => s.version > before && s.keys.find((k) => k.id === ids.k2)?.status === 'disabled',
      'a snapshot with the new states',
    );
    expect(snap.keys.find((k) => k.id === ids.k1)).toMatchObject({
      status: 'cooldown',
      modelCooldowns: { 'gemini-2.5-flash': Date.parse(k1v.cooldowns[0].until) },
    });
  });

  it('ignores outcomes of unknown keys and malformed batches', async () => {
    await pool.emit(PoolEvent.Outcome, {
      gatewayId: 'gw-a',
      outcomes: [outcome('no-such-key', { kind: 'invalid', status: 400 })],
    });
    await pool.emit(PoolEvent.Outcome, { gatewayId: 'gw-a', outcomes: [{ keyId: ids.k3, kind: 'invalid' }] });
    await pool.emit(PoolEvent.Outcome, { gatewayId: 'gw-a', outcomes: [outcome(ids.k3, { kind: 'success' })] });
    await eventually(
      () => pool.send<PoolKey[]>(PoolPattern.List),
      (l) => byId(l, ids.k3).totalRequests === 2,
      'the valid batch',
    );
    const list = await pool.send<PoolKey[]>(PoolPattern.List);
    expect(byId(list, ids.k3).status).toBe('active');
    expect(list).toHaveLength(4);
  });

  it('survives a restart: cooldowns, disabling and counters come back', async () => {
    await stack.app.close();
    stack = await boot(env);
    const list = await eventually(
      () => pool.send<PoolKey[]>(PoolPattern.List),
      (l) => l.length === 4,
      'the restarted pool',
    );
    expect(byId(list, ids.k1)).toMatchObject({ status: 'cooldown', totalRequests: 1 });
    expect(byId(list, ids.k1).cooldowns.map((c) => c.model)).toEqual(['gemini-2.5-flash']);
    expect(byId(list, ids.k2)).toMatchObject({
      status: 'disabled',
      lastError: expect.stringContaining('API key not valid'),
    });
    expect(byId(list, ids.k3)).toMatchObject({ status: 'active', totalRequests: 2 });
    // GEMINI_API_KEYS again at this start: still one copy
    expect(list.filter((k) => k.masked === `${startupKey.slice(0, 4)}…${startupKey.slice(-4)}`)).toHaveLength(1);
    const snap = await pool.send<PoolSnapshot>(PoolPattern.Snapshot);
    expect(snap.keys.find((k) => k.id === ids.k2)?.secret).toBe(k2);
  });

  it('resets one key, then every key, back to active', async () => {
    const one = await pool.send<PoolKey>(PoolPattern.Reset, { id: ids.k2 });
    expect(one).toMatchObject({ id: ids.k2, status: 'active', lastError: null, failureCount: 0 });
    const all = await pool.send<PoolKey[]>(PoolPattern.ResetAll);
    expect(all.every((k) => k.status === 'active' && k.cooldowns.length === 0)).toBe(true);
    await expect(pool.send(PoolPattern.Reset, { id: 'no-such-key' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('sums in-flight reports over gateways and forgets a gateway whose lease ran out', async () => {
    const now = Date.now();
    await pool.emit(PoolEvent.InFlight, { gatewayId: 'gw-a', inFlight: { [ids.k1]: 2 }, expiresAt: now + 3000 });
    await pool.emit(PoolEvent.InFlight, {
      gatewayId: 'gw-b',
      inFlight: { [ids.k1]: 3, [ids.k3]: 1 },
      expiresAt: now + 800,
    });
    const list = await eventually(
      () => pool.send<PoolKey[]>(PoolPattern.List),
      (l) => byId(l, ids.k1).inUse === 5,
      'in-flight from both gateways',
    );
    expect(byId(list, ids.k1).isInUse).toBe(true);
    expect(byId(list, ids.k3)).toMatchObject({ inUse: 1, isInUse: true });
    expect(byId(list, ids.k2)).toMatchObject({ inUse: 0, isInUse: false });
    // gw-b stops reporting: its lease ends
    const later = await eventually(
      () => pool.send<PoolKey[]>(PoolPattern.List),
      (l) => byId(l, ids.k1).inUse === 2,
      'gw-b to expire',
    );
    expect(byId(later, ids.k3)).toMatchObject({ inUse: 0, isInUse: false });
    // a newer report of a gateway replaces its older one
    await pool.emit(PoolEvent.InFlight, { gatewayId: 'gw-a', inFlight: {}, expiresAt: Date.now() + 3000 });
    await eventually(
      () => pool.send<PoolKey[]>(PoolPattern.List),
      (l) => byId(l, ids.k1).inUse === 0,
      'gw-a to report nothing',
    );
  });

  it('checks a good key with one real upstream call', async () => {
    goodKeys.add(k1);
    goodKeyDelayMs = 120;
    const started = Date.now();
    const r = await pool.send<KeyCheckResult>(PoolPattern.Check, { id: ids.k1 }).finally(() => (goodKeyDelayMs = 0));
    expect(r).toMatchObject({ ok: true, status: 200 });
    expect(r.error).toBeUndefined();
    // the time of the upstream call: at least the stand-in's delay, at most the whole round trip
    expect(r.latencyMs).toBeGreaterThanOrEqual(120);
    expect(r.latencyMs).toBeLessThanOrEqual(Date.now() - started);
  });

  it('checks a bad key: not ok, disabled, and the error names no secret', async () => {
    const r = await pool.send<KeyCheckResult>(PoolPattern.Check, { id: ids.k3 });
    expect(r).toMatchObject({ ok: false, status: 400, error: expect.stringContaining('API key not valid') });
    expect(r.error).not.toContain(k3);
    const list = await pool.send<PoolKey[]>(PoolPattern.List);
    expect(byId(list, ids.k3).status).toBe('disabled');
    expect(JSON.stringify(list)).not.toContain(k3);
    await expect(pool.send(PoolPattern.Check, { id: 'no-such-key' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('the repeatable health check brings a disabled key back once it passes', async () => {
    goodKeys.add(k3);
    const list = await eventually(
      () => pool.send<PoolKey[]>(PoolPattern.List),
      (l) => byId(l, ids.k3).status === 'active',
      'the health check to re-enable the key',
      8000,
    );
    expect(byId(list, ids.k3).lastError).toBeNull();
  });

  it('deletes a key: gone from the list and the snapshot; an unknown id is NOT_FOUND', async () => {
    await pool.send(PoolPattern.Delete, { id: ids.k2 });
    const list = await pool.send<PoolKey[]>(PoolPattern.List);
    expect(list.map((k) => k.id)).not.toContain(ids.k2);
    await eventually(
      () => pool.snapshots[pool.snapshots.length - 1],
      (s) => !s.keys.some((k) => k.id === ids.k2),
      'a snapshot without the deleted key',
    );
    await expect(pool.send(PoolPattern.Delete, { id: ids.k2 })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    } satisfies Partial<RpcErrorPayload>);
  });

  it('answers its probes', async () => {
    const ready = await fetch(`${stack.httpUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ok', checks: { db: true, redis: true } });
    expect((await fetch(`${stack.httpUrl}/healthz`)).status).toBe(200);
    const metrics = await (await fetch(`${stack.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/^gg_pool_keys{status="active"} 3$/m);
    expect(metrics).toMatch(/^gg_pool_outcomes_total{kind="invalid"} \d+/m);
  });
});

describe('key-pool (Redis storage)', () => {
  it('keeps state across a restart', async () => {
    const { ns, dir } = scenario();
    const env = baseEnv(ns, dir, 'redis');
    const key = secret('redis');
    let stack = await boot(env);
    const pool = new PoolClient(ns);
    await pool.start();
    try {
      const { added } = await pool.send<AddPoolKeysResult>(PoolPattern.Add, { keys: [key] });
      const id = added[0].id;
      await pool.emit(PoolEvent.Outcome, {
        gatewayId: 'gw-a',
        outcomes: [
          outcome(id, { model: 'gemini-2.5-flash', kind: 'rate_limited', status: 429, retryDelayMs: 120_000 }),
        ],
      });
      await eventually(
        () => pool.send<PoolKey[]>(PoolPattern.List),
        (l) => l[0]?.status === 'cooldown',
        'the 429',
      );
      await stack.app.close();
      stack = await boot(env);
      const list = await eventually(
        () => pool.send<PoolKey[]>(PoolPattern.List),
        (l) => l.length === 1,
        'the restarted pool',
      );
      expect(list[0]).toMatchObject({ id, status: 'cooldown', totalRequests: 1 });
      expect(list[0].cooldowns[0].model).toBe('gemini-2.5-flash');
      const again = await pool.send<AddPoolKeysResult>(PoolPattern.Add, { keys: key });
      expect(again).toMatchObject({ added: [], duplicates: 1, invalid: 0 });
    } finally {
      await pool.close();
      await stack.app.close();
    }
  });
});
