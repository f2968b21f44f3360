import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import IORedis from 'ioredis';
import type { KeyCheckResult, PoolKey } from '@gg/contracts';
import { startMockGemini, Stack, testRedisUrl, type MockGemini } from '@gg/testing';
import { createUserKey, fakeGeminiKey, poll, poolKeys } from './helpers';
import { gatewayInSync, keyOf, keysSince, msUntil, sendUntilSeen, waitForKey } from './pool-support';

jest.setTimeout(60_000);

/** Everything stored under the stack's namespace in Redis, as text. */
async function dumpRedis(namespace: string): Promise<string> {
  const redis = new IORedis(testRedisUrl());
  const out: string[] = [];
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${namespace}:*`, 'COUNT', 1000);
      cursor = next;
      for (const k of keys) {
        const type = await redis.type(k);
        if (type === 'string') out.push(String(await redis.get(k)));
        else if (type === 'hash') out.push(JSON.stringify(await redis.hgetall(k)));
        else if (type === 'list') out.push(JSON.stringify(await redis.lrange(k, 0, -1)));
        else if (type === 'set') out.push(JSON.stringify(await redis.smembers(k)));
        else if (type === 'zset') out.push(JSON.stringify(await redis.zrange(k, 0, -1)));
      }
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return out.join('\n');
}

describe.each(['sqlite', 'redis'] as const)('pool state at rest (DATABASE_TYPE=%s)', (databaseType) => {
  let mock: MockGemini;
  let stack: Stack;
  let token: string;
  let secret: string;
  const pool = Array.from({ length: 4 }, () => fakeGeminiKey());
  const [A, B, C, D] = pool;
  const generate = () =>
    fetch(`${stack.gatewayUrl}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: 'POST',
      headers: { 'x-goog-api-key': secret, 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ parts: [{ text: 'hi' }] }] }),
    });
  const check = (id: string) => stack.api<KeyCheckResult>(token, 'POST', `/api/keys/${id}/check`);

  beforeAll(async () => {
    mock = await startMockGemini();
    stack = await Stack.start({ geminiBaseUrl: mock.url, databaseType });
    token = await stack.login();
    expect((await stack.api(token, 'POST', '/api/keys', { keys: pool })).status).toBe(201);
    secret = (await createUserKey(stack, token, 'pool-restart')).key;
    await stack.gatewayReady();
    await gatewayInSync(stack, pool.length);
  });

  afterAll(async () => {
    await stack?.stop();
    await mock?.close();
  });

  it('POST /api/keys/{id}/check makes one real upstream call; a failing key is disabled, a passing one active again', async () => {
    const a = keyOf(await poolKeys(stack, token), A);
    mock.script({ type: 'invalidKey', key: A, times: 1 });
    let from = mock.requests.length;
    const bad = await check(a.id);
    expect(bad.status).toBe(200);
    expect(bad.body).toMatchObject({ ok: false, status: 400 });
    expect(bad.body.error).toContain('API key not valid');
    expect(JSON.stringify(bad.body)).not.toContain(A);
    expect(mock.requests.slice(from).map((r) => [r.key, r.apiMethod])).toEqual([[A, 'models.list']]);
    expect(keyOf(await poolKeys(stack, token), A).status).toBe('disabled');

    from = mock.requests.length;
    // the upstream answers after 150 ms: the latency reported is the upstream call's, not a made-up number
    mock.script({ type: 'delay', firstByteMs: 150, key: A, times: 1 });
    const good = await check(a.id);
    expect(good.body).toMatchObject({ ok: true, status: 200 });
    expect(good.body.latencyMs).toBeGreaterThanOrEqual(150);
    expect(good.body.latencyMs).toBeLessThan(5000);
    expect(good.body.error).toBeUndefined();
    expect(mock.requests.slice(from).map((r) => [r.key, r.apiMethod])).toEqual([[A, 'models.list']]);
    expect(keyOf(await poolKeys(stack, token), A)).toMatchObject({
      status: 'active',
      failureCount: 0,
      lastError: null,
    });
    expect((await stack.api(token, 'POST', '/api/keys/no-such-key/check')).status).toBe(404);
  });

  it('cooldowns, disabled keys, failure counts and totals survive a restart of key-pool', async () => {
    mock.script({ type: 'invalidKey', key: A, times: Infinity });
    mock.script({ type: 'rateLimit', retryDelay: '120s', key: B, times: Infinity });
    mock.script({ type: 'error', status: 500, key: D, times: 3 });
    await sendUntilSeen(mock, [A, B], generate);
    await sendUntilSeen(mock, D, generate, 3);
    await waitForKey(stack, token, D, (k) => k.cooldownUntil !== null, 'D cooling');
    // only C is left; two failures on it (the clients get them: no other key to try)
    await gatewayInSync(stack, 1);
    mock.script({ type: 'error', status: 503, key: C, times: 2 });
    expect(await sendUntilSeen(mock, C, generate, 2)).toEqual([503, 503]);
    const before = await poll(
      () => poolKeys(stack, token),
      (ks) =>
        keyOf(ks, A).status === 'disabled' && keyOf(ks, B).status === 'cooldown' && keyOf(ks, C).failureCount === 2,
      5000,
      'the four states',
    );
    expect(msUntil(keyOf(before, B).cooldowns[0].until)).toBeGreaterThan(100_000);

    await stack.signal('key-pool', 'SIGTERM');
    await stack.spawn('key-pool');
    const after = await poolKeys(stack, token);
    const comparable = (k: PoolKey) => ({ ...k, inUse: 0, isInUse: false });
    for (const s of pool) expect(comparable(keyOf(after, s))).toEqual(comparable(keyOf(before, s)));

    // and the gateways, fed by the restarted key-pool, still only use the healthy key
    await gatewayInSync(stack, 1);
    const mark = mock.requests.length;
    for (let i = 0; i < 4; i++) expect((await generate()).status).toBe(200);
    expect(keysSince(mock, mark)).toEqual([C, C, C, C]);
    await waitForKey(stack, token, C, (k) => k.failureCount === 0, 'C healed by its successes');
  });

  it('pool secrets are encrypted at rest (AES-256-GCM), with a generated key kept in DATA_DIR (0600)', async () => {
    const keyFile = join(stack.dataDir, 'encryption-key');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    let stored: string;
    if (databaseType === 'sqlite') {
      const files = readdirSync(stack.dataDir).filter((f) => f.startsWith('key-pool.sqlite'));
      expect(files).toContain('key-pool.sqlite');
      stored = files.map((f) => readFileSync(join(stack.dataDir, f)).toString('latin1')).join('\n');
    } else {
      stored = await dumpRedis(stack.namespace);
    }
    expect(stored).toMatch(/v1:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]{22}:[A-Za-z0-9_-]+/);
    for (const s of pool) {
      expect(stored).not.toContain(s);
      expect(stored).not.toContain(s.slice(4, 20));
    }
  });
});
