import type { AddPoolKeysResult } from '@gg/contracts';
import { startMockGemini, Stack, type MockGemini } from '@gg/testing';
import { createKey, keyOf } from './accounts-helpers';
import { fakeGeminiKey, poll } from './helpers';

jest.setTimeout(180_000);

/** The next start of a clock minute at least `minWaitMs` from now, as epoch ms. */
function nextMinute(minWaitMs: number): number {
  return Math.ceil((Date.now() + minWaitMs) / 60_000) * 60_000;
}

/** Clock time is the behaviour under test here (a minute's window), so this waits for the clock, not for an event. */
const sleepUntil = (t: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, t - Date.now())));

describe('per-key rate limit across gateway replicas (GCRA in Redis)', () => {
  let mock: MockGemini;
  let stack: Stack;
  let token: string;

  beforeAll(async () => {
    mock = await startMockGemini();
    // the key's record stays in both gateways' caches: the burst below waits on nothing but the limiter
    stack = await Stack.start({ geminiBaseUrl: mock.url, gateways: 2, env: { AUTH_CACHE_TTL_SECONDS: '3600' } });
    token = await stack.login();
    const added = await stack.api<AddPoolKeysResult>(token, 'POST', '/api/keys', {
      keys: [fakeGeminiKey(), fakeGeminiKey()],
    });
    expect(added.status).toBe(201);
    for (const i of [0, 1]) {
      await stack.gatewayReady(i);
    }
  });

  afterAll(async () => {
    await stack?.stop();
    await mock?.close();
  });

  const generate = (gateway: number, key: string, model = 'gemini-2.5-flash') =>
    fetch(`${stack.urlOf('gateway', gateway)}/v1beta/models/${model}:generateContent`, {
      method: 'POST',
      headers: { 'x-goog-api-key': key, 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ parts: [{ text: 'hi' }] }] }),
    }).then(async (r) => ({ status: r.status, retryAfter: r.headers.get('retry-after'), body: await r.text() }));

  it('a burst of 2N across a minute boundary, over two replicas, admits exactly N', async () => {
    const N = 6;
    const key = await createKey(stack, token, {
      name: 'rl',
      rateLimitPerMinute: N,
      allowedModels: ['gemini-2.5-flash'],
    });
    // one call through each replica puts the key in its cache; a model the key may not use is refused (403) before
    // the limiter, so none of the budget is spent and the burst need not wait for it to come back
    for (const g of [0, 1]) expect((await generate(g, key.key, 'gemini-2.0-flash')).status).toBe(403);

    // N just before the minute turns, N just after, alternating replicas (a fixed clock-minute window admits 2N)
    const boundary = nextMinute(2000);
    await sleepUntil(boundary - 1000);
    const before = await Promise.all(Array.from({ length: N }, (_, i) => generate(i % 2, key.key)));
    // all of them were decided before the minute turned (else this run proves nothing)
    expect(Date.now()).toBeLessThan(boundary);
    await sleepUntil(boundary + 100);
    const after = await Promise.all(Array.from({ length: N }, (_, i) => generate(i % 2, key.key)));
    const all = [...before, ...after];

    const unenforced = await Promise.all(
      [0, 1].map((g) => fetch(`${stack.metricsUrlOf('gateway', g)}/metrics`).then((r) => r.text())),
    );
    expect(unenforced.join('\n')).not.toMatch(/gateway_rate_limit_unenforced_total\{/);
    expect(all.map((r) => r.status).sort()).toEqual([...Array(N).fill(200), ...Array(N).fill(429)]);
    const refused = all.filter((r) => r.status !== 200);
    expect(refused).toHaveLength(N);
    for (const r of refused) {
      expect(r.status).toBe(429);
      expect(JSON.parse(r.body)).toMatchObject({ error: { status: 'RESOURCE_EXHAUSTED' } });
      // the next request is admitted 60 s / N = 10 s after the burst began (about 1 s before these)
      expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(8);
      expect(Number(r.retryAfter)).toBeLessThanOrEqual(10);
    }
    // refusals are counted too
    await poll(
      async () => (await keyOf(stack, token, key.id))?.callCount ?? 0,
      (n) => n === 2 * N + 2,
      15_000,
      'every request counted',
    );
  });
});
