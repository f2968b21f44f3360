import type { PoolKey } from '@gg/contracts';
import { startMockGemini, Stack, type MockGemini } from '@gg/testing';
import { createKey, createUser, loginSession } from './accounts-helpers';
import { fakeGeminiKey, poll, poolKeys } from './helpers';
import { gatewayInSync, gauge, keyOf } from './pool-support';

jest.setTimeout(90_000);

/**
 * Fault attribution one tenant cannot abuse: a 5xx from Google is not proof that a key is bad. Failures caused by
 * one request's content, or by one user alone, never rest the keys; at most half of the pool rests for failures at
 * once; an overloaded model rests, not the keys.
 */
describe('pool fairness: one user cannot take the pool from the others', () => {
  let mock: MockGemini;
  let stack: Stack;
  let admin: string;
  let mallory: string;
  let alice: string;
  const pool = Array.from({ length: 4 }, () => fakeGeminiKey());
  const [A, B, C] = pool;

  const generate = (userKey: string, text = 'hello', model = 'gemini-2.5-flash') =>
    fetch(`${stack.gatewayUrl}/v1beta/models/${model}:generateContent`, {
      method: 'POST',
      headers: { 'x-goog-api-key': userKey, 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ parts: [{ text }] }] }),
    });
  const status = async (r: Promise<Response>) => {
    const res = await r;
    await res.arrayBuffer().catch(() => undefined);
    return res.status;
  };
  const keys = () => poolKeys(stack, admin);
  const allActive = (ks: PoolKey[]) =>
    ks.every((k) => k.status === 'active' && k.cooldownUntil === null && k.cooldowns.length === 0);

  beforeAll(async () => {
    mock = await startMockGemini();
    // every key may be tried for one request, so a request that another key can serve is always served
    stack = await Stack.start({
      geminiBaseUrl: mock.url,
      env: { REQUEST_TIMEOUT_SECONDS: '2', KEY_MAX_FAILURES: '3', MAX_ATTEMPTS: '4' },
    });
    admin = await stack.login();
    expect((await stack.api(admin, 'POST', '/api/keys', { keys: pool })).status).toBe(201);
    for (const name of ['mallory', 'alice']) await createUser(stack, admin, name, `${name}-password-1234`);
    const m = await loginSession(stack, 'mallory', 'mallory-password-1234');
    const a = await loginSession(stack, 'alice', 'alice-password-1234');
    mallory = (await createKey(stack, m.token, { name: 'mallory' })).key;
    alice = (await createKey(stack, a.token, { name: 'alice' })).key;
    await stack.gatewayReady();
  });

  afterAll(async () => {
    await stack?.stop();
    await mock?.close();
  });

  beforeEach(async () => {
    mock.reset();
    expect((await stack.api(admin, 'POST', '/api/keys/reset')).status).toBeLessThan(300);
    await poll(
      () => keys(),
      (ks) => allActive(ks) && ks.every((k) => k.failureCount === 0),
      10_000, // a poll returns as soon as it holds; the margin is for a busy CI machine
      'pool reset',
    );
    await gatewayInSync(stack, pool.length);
  });

  it('requests that fail with 503 on every key (poison) do not rest the keys: the next user is served', async () => {
    mock.script({ type: 'error', status: 503, bodyContains: 'POISON', times: Infinity });
    for (let i = 0; i < 8; i++) expect(await status(generate(mallory, `POISON ${i}`))).toBe(503);
    // each poison request was tried on every key
    expect(mock.requests.length).toBe(8 * 4);
    for (let i = 0; i < 6; i++) expect(await status(generate(alice, `question ${i}`))).toBe(200);
    const ks = await poll(
      () => keys(),
      (x) => x.reduce((n, k) => n + k.totalRequests, 0) >= 8 * 4 + 6,
      10_000, // a poll returns as soon as it holds; the margin is for a busy CI machine
      'every attempt counted',
    );
    expect(allActive(ks)).toBe(true);
    expect(ks.map((k) => k.failureCount)).toEqual([0, 0, 0, 0]);
  });

  // This case once failed in every other run: undici's own headers timer (about a second precise) fired before the
  // gateway's deadline sweep, the timeout was taken for a network error and the request retried on a second key with
  // no time left, so its two failures were blamed on the request and counted on no key.
  it("one user's requests that time out on the key they reach are counted, but rest no key", async () => {
    mock.script({ type: 'delay', firstByteMs: 4000, bodyContains: 'SLOW', times: Infinity });
    // 12 at once: least-busy spreads them, 3 per key (today's KEY_MAX_FAILURES)
    const statuses = await Promise.all(Array.from({ length: 12 }, (_, i) => status(generate(mallory, `SLOW ${i}`))));
    expect(statuses).toEqual(Array(12).fill(504));
    const ks = await poll(
      () => keys(),
      (x) => x.reduce((n, k) => n + k.failureCount, 0) === 12,
      10_000, // a poll returns as soon as it holds; the margin is for a busy CI machine
      '12 failures counted',
    );
    expect(Math.max(...ks.map((k) => k.failureCount))).toBeGreaterThanOrEqual(3);
    expect(allActive(ks)).toBe(true);
    await gatewayInSync(stack, pool.length);
    for (let i = 0; i < 6; i++) expect(await status(generate(alice, `question ${i}`))).toBe(200);
  });

  it('at most half of the keys rest for failures at once, however many keys fail', async () => {
    for (const k of [A, B, C]) mock.script({ type: 'error', status: 500, key: k, times: Infinity });
    const seen = (k: string) => mock.requests.filter((r) => r.key === k).length;
    // every request is served (by the fourth key at the latest); keys A, B and C fail for the key's own reasons
    for (let i = 0; i < 40 && (seen(A) < 6 || seen(B) < 6 || seen(C) < 6); i++)
      expect(await status(generate(alice, `q${i}`))).toBe(200);
    const ks = await poll(
      () => keys(),
      (x) => x.filter((k) => k.cooldownUntil !== null).length === 2,
      10_000, // a poll returns as soon as it holds; the margin is for a busy CI machine
      'two keys resting',
    );
    await new Promise((r) => setTimeout(r, 300)); // nothing more comes
    const after = await keys();
    const resting = after.filter((k) => k.cooldownUntil !== null);
    expect(resting).toHaveLength(2);
    expect(resting.every((k) => [A, B, C].some((s) => keyOf(after, s).id === k.id))).toBe(true);
    // the third failing key keeps counting its failures, and keeps being tried, but does not rest
    const third = [A, B, C].map((s) => keyOf(after, s)).find((k) => k.cooldownUntil === null)!;
    expect(third.failureCount).toBeGreaterThanOrEqual(3);
    expect(third.status).toBe('active');
    expect(ks.length).toBe(4);
  });

  it('503 overloaded for one model from several keys and users: the model rests, not the keys; other models are served', async () => {
    mock.script({ type: 'error', status: 503, model: 'gemini-2.5-pro', times: Infinity });
    const pro = (userKey: string) => generate(userKey, 'hello', 'gemini-2.5-pro');
    const upstreamPro = () => mock.requests.filter((r) => r.model === 'gemini-2.5-pro').length;
    expect(await status(pro(mallory))).toBe(503);
    expect(upstreamPro()).toBe(4);
    // one user alone never makes the model rest
    await new Promise((r) => setTimeout(r, 300)); // fixed: give key-pool time to (not) decide
    expect(await status(pro(mallory))).toBe(503);
    expect(upstreamPro()).toBe(8);
    // a second user meets the same: the model is overloaded
    expect(await status(pro(alice))).toBe(503);
    // key-pool decides it and pushes it to the gateway: from then on nothing goes upstream for that model
    const rested = await poll(
      async () => {
        const before = upstreamPro();
        const r = await pro(alice);
        return {
          status: r.status,
          retryAfter: Number(r.headers.get('retry-after')),
          body: await r.text(),
          sent: upstreamPro() - before,
        };
      },
      (r) => r.sent === 0,
      10_000, // a poll returns as soon as it holds; the margin is for a busy CI machine
      'the model to rest',
    );
    expect(rested.status).toBe(503);
    expect(JSON.parse(rested.body)).toMatchObject({ error: { code: 503, status: 'UNAVAILABLE' } });
    expect(rested.retryAfter).toBeGreaterThanOrEqual(1);
    expect(rested.retryAfter).toBeLessThanOrEqual(10);
    expect(await gauge(stack.metricsUrlOf('key-pool'), 'gg_pool_models_resting')).toBe(1);
    // other models are still served, by every key
    for (let i = 0; i < 4; i++) expect(await status(generate(mallory, `flash ${i}`))).toBe(200);
    const ks = await keys();
    expect(allActive(ks)).toBe(true);
    expect(ks.map((k) => k.failureCount)).toEqual([0, 0, 0, 0]);
  });
});
