import { GoogleGenAI } from '@google/genai';
import { startMockGemini, Stack, type MockGemini } from '@gg/testing';
import { createUserKey, fakeGeminiKey, poll, poolKeys } from './helpers';
import {
  gatewayInSync,
  gatewaySees,
  keyOf,
  keysSince,
  msUntil,
  sendUntilSeen,
  startFront,
  waitForKey,
  type Front,
} from './pool-support';

delete process.env.GOOGLE_GENAI_USE_VERTEXAI;
jest.setTimeout(60_000);

/**
 * Every row of the pool's classification table, end to end: what each upstream answer does to the pool key (as
 * GET /api/keys shows it) and to the request (as the client sees it).
 */
describe('pool key state machine: the classification table', () => {
  let mock: MockGemini;
  let front: Front;
  let stack: Stack;
  let token: string;
  let secret: string;
  let ai: GoogleGenAI;
  const pool = Array.from({ length: 5 }, () => fakeGeminiKey());
  const [A, B, C, D] = pool;
  const generate = (model = 'gemini-2.5-flash', text = 'hello') =>
    fetch(`${stack.gatewayUrl}/v1beta/models/${model}:generateContent`, {
      method: 'POST',
      headers: { 'x-goog-api-key': secret, 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ parts: [{ text }] }] }),
    });
  const keys = () => poolKeys(stack, token);

  beforeAll(async () => {
    mock = await startMockGemini();
    front = await startFront(mock.url);
    stack = await Stack.start({
      geminiBaseUrl: front.url,
      env: { REQUEST_TIMEOUT_SECONDS: '2', KEY_MAX_FAILURES: '3' },
    });
    token = await stack.login();
    expect((await stack.api(token, 'POST', '/api/keys', { keys: pool })).status).toBe(201);
    secret = (await createUserKey(stack, token, 'pool-table')).key;
    ai = new GoogleGenAI({ apiKey: secret, httpOptions: { baseUrl: stack.gatewayUrl } });
    await stack.gatewayReady();
  });

  afterAll(async () => {
    await stack?.stop();
    await front?.close();
    await mock?.close();
  });

  beforeEach(async () => {
    mock.reset();
    front.retryAfter.clear();
    expect((await stack.api(token, 'POST', '/api/keys/reset')).status).toBeLessThan(300);
    await poll(
      () => keys(),
      (ks) => ks.every((k) => k.status === 'active' && k.failureCount === 0),
      3000,
      'pool reset',
    );
    await gatewayInSync(stack, pool.length);
  });

  it('2xx: consecutive failures go back to 0', async () => {
    mock.script({ type: 'error', status: 503, key: A, times: 2 });
    const statuses = await sendUntilSeen(mock, A, () => generate(), 2);
    expect(statuses.every((s) => s === 200)).toBe(true);
    const failing = await waitForKey(stack, token, A, (k) => k.failureCount === 2, 'two failures counted');
    expect(failing.status).toBe('active');
    expect(failing.lastError).toMatch(/^503/);
    await sendUntilSeen(mock, A, () => generate());
    expect(mock.requests.filter((r) => r.key === A)).toHaveLength(3);
    const healed = await waitForKey(stack, token, A, (k) => k.failureCount === 0, 'failures reset by a success');
    expect(healed.status).toBe('active');
    expect(healed.totalRequests).toBeGreaterThanOrEqual(3);
  });

  it('429 with RetryInfo.retryDelay: that key rests for that model until the delay; the request goes to another key', async () => {
    mock.script({ type: 'rateLimit', retryDelay: '45s', key: A, model: 'gemini-2.5-flash', times: Infinity });
    const from = mock.requests.length;
    const statuses = await sendUntilSeen(mock, A, () => generate());
    expect(statuses.every((s) => s === 200)).toBe(true);
    // the request that met the 429 was answered by the next key
    const seen = keysSince(mock, from);
    expect(seen[seen.indexOf(A) + 1]).not.toBe(A);
    const k = await waitForKey(stack, token, A, (x) => x.status === 'cooldown', 'A cooling');
    expect(k.cooldownUntil).toBeNull(); // not the whole key: only the model
    expect(k.cooldowns).toHaveLength(1);
    expect(k.cooldowns[0].model).toBe('gemini-2.5-flash');
    expect(msUntil(k.cooldowns[0].until)).toBeGreaterThan(42_000);
    expect(msUntil(k.cooldowns[0].until)).toBeLessThanOrEqual(45_000);
    expect(k.cooldowns[0].reason).toContain('RESOURCE_EXHAUSTED');
    expect(k.lastError).toContain('429');
    // the same model never goes to A while it rests; another model still does
    const mark = mock.requests.length;
    for (let i = 0; i < 8; i++) expect((await generate()).status).toBe(200);
    expect(keysSince(mock, mark)).not.toContain(A);
    await sendUntilSeen(mock, A, () => generate('gemini-2.5-pro'), 1, 6);
  });

  it('429 with a Retry-After header and no RetryInfo: the key rests for that long', async () => {
    front.retryAfter.set(B, '75');
    for (let i = 0; i < 8 && front.answered.length === 0; i++) expect((await generate()).status).toBe(200);
    expect(front.answered).toEqual([B]);
    const k = await waitForKey(stack, token, B, (x) => x.status === 'cooldown', 'B cooling');
    expect(k.cooldowns.map((c) => c.model)).toEqual(['gemini-2.5-flash']);
    expect(msUntil(k.cooldowns[0].until)).toBeGreaterThan(72_000);
    expect(msUntil(k.cooldowns[0].until)).toBeLessThanOrEqual(75_000);
  });

  it('429 with no delay at all: exponential backoff from 30 s, jittered', async () => {
    mock.script({ type: 'error', status: 429, key: C, times: Infinity });
    const statuses = await sendUntilSeen(mock, C, () => generate());
    expect(statuses.every((s) => s === 200)).toBe(true);
    const k = await waitForKey(stack, token, C, (x) => x.status === 'cooldown', 'C cooling');
    expect(k.cooldowns.map((c) => c.model)).toEqual(['gemini-2.5-flash']);
    // 30 s ± 10 % jitter
    const left = msUntil(k.cooldowns[0].until);
    expect(left).toBeGreaterThan(26_000);
    expect(left).toBeLessThanOrEqual(33_000);
  });

  it('400 API_KEY_INVALID and 401: the key is disabled with its reason; the request goes to another key', async () => {
    mock.script({ type: 'invalidKey', key: A, times: Infinity });
    mock.script({ type: 'error', status: 401, key: B, times: Infinity });
    const statuses = await sendUntilSeen(mock, [A, B], () => generate());
    expect(statuses.every((s) => s === 200)).toBe(true);
    const a = await waitForKey(stack, token, A, (k) => k.status === 'disabled', 'A disabled');
    expect(a.lastError).toMatch(/^400 API_KEY_INVALID: API key not valid/);
    const b = await waitForKey(stack, token, B, (k) => k.status === 'disabled', 'B disabled');
    expect(b.lastError).toMatch(/^401/);
    const mark = mock.requests.length;
    for (let i = 0; i < 8; i++) expect((await generate()).status).toBe(200);
    expect(keysSince(mock, mark)).not.toContain(A);
    expect(keysSince(mock, mark)).not.toContain(B);
  });

  it('403 CONSUMER_SUSPENDED and SERVICE_DISABLED: the key is disabled with its reason; the request goes to another key', async () => {
    mock.script({ type: 'suspended', key: C, times: Infinity });
    mock.script({
      type: 'error',
      status: 403,
      key: D,
      message:
        'Generative Language API has not been used in project 1234 before or it is disabled. Enable it by visiting https://console.developers.google.com/apis/api/generativelanguage.googleapis.com/overview?project=1234 then retry.',
      times: Infinity,
    });
    const statuses = await sendUntilSeen(mock, [C, D], () => generate());
    expect(statuses.every((s) => s === 200)).toBe(true);
    const c = await waitForKey(stack, token, C, (k) => k.status === 'disabled', 'C disabled');
    expect(c.lastError).toContain('CONSUMER_SUSPENDED');
    expect(c.lastError).not.toContain(C); // Google names the key in that message; we never show it
    const d = await waitForKey(stack, token, D, (k) => k.status === 'disabled', 'D disabled');
    expect(d.lastError).toContain('has not been used in project');
  });

  it('500, 502, 504: consecutive failures, then at KEY_MAX_FAILURES (3) a key-wide cooldown from 30 s', async () => {
    for (const status of [500, 502, 504]) mock.script({ type: 'error', status, key: A, times: 1 });
    expect((await sendUntilSeen(mock, A, () => generate())).every((s) => s === 200)).toBe(true);
    expect((await waitForKey(stack, token, A, (k) => k.failureCount === 1, 'one failure')).status).toBe('active');
    expect((await sendUntilSeen(mock, A, () => generate())).every((s) => s === 200)).toBe(true);
    expect((await waitForKey(stack, token, A, (k) => k.failureCount === 2, 'two failures')).status).toBe('active');
    expect((await sendUntilSeen(mock, A, () => generate())).every((s) => s === 200)).toBe(true);
    const k = await waitForKey(stack, token, A, (x) => x.status === 'cooldown', 'A cooling after 3 failures');
    expect(k.failureCount).toBe(3);
    expect(k.lastError).toMatch(/^504/);
    expect(k.cooldowns).toEqual([]);
    expect(msUntil(k.cooldownUntil)).toBeGreaterThan(26_000);
    expect(msUntil(k.cooldownUntil)).toBeLessThanOrEqual(33_000);
    await gatewaySees(stack, 'cooldown', 1); // key-pool decides it; the gateway learns it by push
    const mark = mock.requests.length;
    for (let i = 0; i < 6; i++) expect((await generate('gemini-2.5-pro')).status).toBe(200);
    expect(keysSince(mock, mark)).not.toContain(A); // every model
  });

  it('a connection reset, a 503 and a timeout are failures of the key too', async () => {
    mock.script({ type: 'reset', key: B, times: 1 });
    mock.script({ type: 'error', status: 503, key: B, times: 1 });
    mock.script({ type: 'delay', firstByteMs: 4000, key: B, times: 1 });
    expect(await sendUntilSeen(mock, B, () => generate())).toEqual(expect.arrayContaining([200]));
    expect(await sendUntilSeen(mock, B, () => generate())).toEqual(expect.arrayContaining([200]));
    await waitForKey(stack, token, B, (k) => k.failureCount === 2, 'two failures');
    // the deadline (REQUEST_TIMEOUT_SECONDS=2) passes on B: 504 to the client, and a failure of B
    const statuses = await sendUntilSeen(mock, B, () => generate());
    expect(statuses[statuses.length - 1]).toBe(504);
    const k = await waitForKey(stack, token, B, (x) => x.status === 'cooldown', 'B cooling after 3 failures');
    expect(k.failureCount).toBe(3);
    expect(k.lastError).toMatch(/timeout/);
  });

  it('a file made outside the gateway: refused as not found, nothing sent upstream, nothing happens to any key', async () => {
    // a file the gateway never saw created, owned by a project outside the pool (ownership fails closed)
    const up = await fetch(`${mock.url}/upload/v1beta/files`, {
      method: 'POST',
      headers: { 'x-goog-api-key': fakeGeminiKey(), 'content-type': 'text/plain' },
      body: 'not yours',
    });
    const file = ((await up.json()) as { file: { name: string; uri: string } }).file;
    mock.clearRequests();
    const before = await keys();
    const r = await ai.models
      .generateContent({
        model: 'gemini-2.5-flash',
        contents: [
          { role: 'user', parts: [{ fileData: { fileUri: file.uri, mimeType: 'text/plain' } }, { text: 'read it' }] },
        ],
      })
      .then(
        () => null,
        (e: { status?: number; message: string }) => e,
      );
    expect(r?.status).toBe(404);
    expect(r?.message).toContain('NOT_FOUND');
    expect(mock.requests).toHaveLength(0);
    const after = await keys();
    for (const k of after) {
      expect(k).toMatchObject({
        status: 'active',
        failureCount: 0,
        totalRequests: before.find((b) => b.id === k.id)?.totalRequests,
      });
    }
  });

  it.each([
    [400, 'Request contains an invalid argument.'],
    [403, 'The caller does not have permission'],
    [404, 'Requested entity was not found.'],
    [409, 'Conflict.'],
  ])('any other 4xx (%i): answered as is, no retry, nothing happens to the key', async (status, message) => {
    mock.script({ type: 'error', status, message, times: 1 });
    const before = new Map((await keys()).map((k) => [k.id, k.totalRequests]));
    const r = await generate();
    expect(r.status).toBe(status);
    expect(((await r.json()) as { error: { message: string } }).error.message).toBe(message);
    expect(mock.requests).toHaveLength(1);
    const used = mock.requests[0].key;
    await poll(
      () => keys(),
      (ks) => keyOf(ks, used).totalRequests > before.get(keyOf(ks, used).id)!,
      3000,
      'the outcome counted',
    );
    expect(keyOf(await keys(), used)).toMatchObject({
      status: 'active',
      failureCount: 0,
      lastError: null,
      cooldowns: [],
    });
  });

  it('never retries after the first byte went to the client', async () => {
    mock.script({ type: 'resetMidStream', afterChunks: 1, method: 'generateContent', times: 1 });
    const r = await generate('gemini-2.5-flash', 'a long answer that breaks');
    expect(r.status).toBe(200);
    await expect(r.text()).rejects.toThrow();
    // the break is the key's failure, even though nothing could be retried
    await waitForKey(stack, token, mock.requests[0].key, (k) => k.failureCount === 1, 'broken answer counted');
    expect(mock.requests).toHaveLength(1);
  });
});
