import { startMockGemini, Stack, type MockGemini } from '@gg/testing';
import { createUserKey, fakeGeminiKey, poll } from './helpers';
import { gatewayInSync, msUntil, sendUntilSeen, waitForKey } from './pool-support';

jest.setTimeout(60_000);

/** The repeatable health check (HEALTH_CHECK_INTERVAL_SECONDS=2): disabled and cooling keys are re-checked upstream. */
describe('pool health checks', () => {
  let mock: MockGemini;
  let stack: Stack;
  let token: string;
  let secret: string;
  const pool = Array.from({ length: 5 }, () => fakeGeminiKey());
  const [A, B, C, D] = pool;
  const generate = () =>
    fetch(`${stack.gatewayUrl}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: 'POST',
      headers: { 'x-goog-api-key': secret, 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ parts: [{ text: 'hi' }] }] }),
    });
  const probes = (key: string, from = 0) =>
    mock.requests.slice(from).filter((r) => r.key === key && r.apiMethod === 'models.list');

  beforeAll(async () => {
    mock = await startMockGemini();
    stack = await Stack.start({
      geminiBaseUrl: mock.url,
      env: { HEALTH_CHECK_INTERVAL_SECONDS: '2', KEY_MAX_FAILURES: '3' },
    });
    token = await stack.login();
    expect((await stack.api(token, 'POST', '/api/keys', { keys: pool })).status).toBe(201);
    secret = (await createUserKey(stack, token, 'pool-health')).key;
    await stack.gatewayReady();
  });

  afterAll(async () => {
    await stack?.stop();
    await mock?.close();
  });

  beforeEach(async () => {
    mock.reset();
    await stack.api(token, 'POST', '/api/keys/reset');
    await gatewayInSync(stack, pool.length);
  });

  it('a disabled key is re-checked with a real call; it stays disabled while it fails, and comes back on its own once it passes', async () => {
    mock.script({ type: 'invalidKey', key: A, times: Infinity });
    await sendUntilSeen(mock, A, generate);
    await waitForKey(stack, token, A, (k) => k.status === 'disabled', 'A disabled');
    // the sweep probes it (one cheap call: list one model) and it still fails
    await poll(
      async () => probes(A).length,
      (n) => n >= 1,
      5000,
      'a probe of A',
    );
    expect(probes(A)[0].query).toMatchObject({ pageSize: '1' });
    const still = await waitForKey(stack, token, A, (k) => k.status === 'disabled', 'A still disabled');
    expect(still.lastError).toContain('API_KEY_INVALID');
    // Google accepts the key again: back to active within an interval or two, without anyone asking
    mock.reset();
    const t0 = Date.now();
    const back = await waitForKey(stack, token, A, (k) => k.status === 'active', 'A back', 6000);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(back).toMatchObject({ failureCount: 0, lastError: null });
    expect(probes(A).length).toBeGreaterThanOrEqual(1);
    await sendUntilSeen(mock, A, generate); // and the gateway uses it again
  });

  it('a key cooling after transient failures is re-checked and back before its backoff ends', async () => {
    for (let i = 0; i < 3; i++) mock.script({ type: 'error', status: 500, key: B, times: 1 });
    await sendUntilSeen(mock, B, generate, 3);
    const cooling = await waitForKey(stack, token, B, (k) => k.status === 'cooldown', 'B cooling');
    expect(msUntil(cooling.cooldownUntil)).toBeGreaterThan(20_000);
    const from = mock.requests.length;
    const back = await waitForKey(stack, token, B, (k) => k.status === 'active', 'B back', 6000);
    expect(back.cooldownUntil).toBeNull();
    expect(probes(B, from).length).toBeGreaterThanOrEqual(1);
  });

  it('a key resting for one model after a 429 is left to its cooldown (listing models says nothing of a quota)', async () => {
    mock.script({ type: 'rateLimit', retryDelay: '40s', key: C, times: Infinity });
    mock.script({ type: 'invalidKey', key: D, times: Infinity });
    await sendUntilSeen(mock, [C, D], generate);
    await waitForKey(stack, token, C, (k) => k.status === 'cooldown', 'C cooling');
    // two sweeps happened once D (disabled) was probed twice
    await poll(
      async () => probes(D).length,
      (n) => n >= 2,
      6000,
      'two sweeps',
    );
    expect(probes(C)).toHaveLength(0);
    expect((await waitForKey(stack, token, C, () => true, 'C')).status).toBe('cooldown');
  });
});
