import { GoogleGenAI } from '@google/genai';
import { startMockGemini, Stack, type MockGemini } from '@gg/testing';
import { createUserKey, fakeGeminiKey, poll, poolKeys } from './helpers';
import { gatewayInSync, keyOf, keysSince } from './pool-support';

delete process.env.GOOGLE_GENAI_USE_VERTEXAI;
jest.setTimeout(60_000);

/**
 * When most of the pool gets 429 within a few seconds, Google throttles the server, not the keys: the pool pauses
 * as a whole (503 UNAVAILABLE with Retry-After) instead of cooling every key down one after another.
 */
describe('pool-wide pause', () => {
  let mock: MockGemini;
  let stack: Stack;
  let token: string;
  let secret: string;
  let ai: GoogleGenAI;
  const pool = Array.from({ length: 4 }, () => fakeGeminiKey());
  const generate = (text = 'hello') =>
    fetch(`${stack.gatewayUrl}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: 'POST',
      headers: { 'x-goog-api-key': secret, 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ parts: [{ text }] }] }),
    });
  const pausedSeconds = async () => {
    const text = await fetch(`${stack.metricsUrlOf('key-pool')}/metrics`).then((r) => r.text());
    return Number(/^gg_pool_paused_seconds (\S+)$/m.exec(text)?.[1] ?? NaN);
  };
  /** Throttles every key on generateContent and sends one request: its three attempts meet three 429s. */
  const throttle = async (retryDelay: string) => {
    mock.script({ type: 'rateLimit', retryDelay, method: 'generateContent', times: Infinity });
    const first = await generate('first');
    expect(first.status).toBe(429);
    expect(mock.requests.filter((r) => r.apiMethod === 'generateContent')).toHaveLength(3);
    // then the gateways learn of the pause (the next requests may still meet the fourth key before that)
    return poll(
      () =>
        generate('next').then(async (r) => ({
          status: r.status,
          retryAfter: r.headers.get('retry-after'),
          body: await r.text(),
        })),
      (r) => r.status === 503,
      3000,
      'a 503',
    );
  };

  beforeAll(async () => {
    mock = await startMockGemini();
    stack = await Stack.start({ geminiBaseUrl: mock.url });
    token = await stack.login();
    expect((await stack.api(token, 'POST', '/api/keys', { keys: pool })).status).toBe(201);
    secret = (await createUserKey(stack, token, 'pool-pause')).key;
    ai = new GoogleGenAI({ apiKey: secret, httpOptions: { baseUrl: stack.gatewayUrl } });
    await stack.gatewayReady();
  });

  afterAll(async () => {
    await stack?.stop();
    await mock?.close();
  });

  beforeEach(async () => {
    mock.reset();
    expect((await stack.api(token, 'POST', '/api/keys/reset')).status).toBeLessThan(300);
    await poll(
      () => pausedSeconds(),
      (s) => s === 0,
      3000,
      'no pause',
    );
    await gatewayInSync(stack, pool.length);
  });

  it("a per-day quota is the keys' own: no pause, each rests until the next Pacific midnight", async () => {
    mock.script({
      type: 'rateLimit',
      quotaId: 'GenerateRequestsPerDayPerProjectPerModel-FreeTier',
      retryDelay: '20s',
      key: pool[0],
      times: Infinity,
    });
    mock.script({
      type: 'rateLimit',
      quotaId: 'GenerateRequestsPerDayPerProjectPerModel-FreeTier',
      retryDelay: '20s',
      key: pool[1],
      times: Infinity,
    });
    mock.script({
      type: 'rateLimit',
      quotaId: 'GenerateRequestsPerDayPerProjectPerModel-FreeTier',
      retryDelay: '20s',
      key: pool[2],
      times: Infinity,
    });
    for (let i = 0; i < 4; i++) await generate();
    const keys = await poll(
      () => poolKeys(stack, token),
      (ks) => ks.filter((k) => k.status === 'cooldown').length === 3,
      3000,
      'three keys resting',
    );
    expect(await pausedSeconds()).toBe(0);
    for (let i = 0; i < 3; i++) expect((await generate()).status).toBe(200);
    // the rest ends at a Los Angeles midnight (PST or PDT, read from the clock of that zone), the next one
    const laClock = (ms: number) =>
      new Date(ms).toLocaleString('en-GB', { timeZone: 'America/Los_Angeles', hourCycle: 'h23' });
    for (const secretKey of pool.slice(0, 3)) {
      const until = Date.parse(keyOf(keys, secretKey).cooldowns[0].until);
      expect(laClock(until)).toMatch(/ 00:00:00$/);
      expect(until - Date.now()).toBeGreaterThan(0);
      expect(until - Date.now()).toBeLessThanOrEqual(24 * 3_600_000);
    }
  });

  it('pauses the pool for the retry delay instead of cooling the keys one after another', async () => {
    const paused = await throttle('4s');
    expect(JSON.parse(paused.body)).toMatchObject({ error: { code: 503, status: 'UNAVAILABLE' } });
    expect(Number(paused.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(paused.retryAfter)).toBeLessThanOrEqual(4);
    // while it lasts, nothing goes upstream: not the fourth key, not the others
    const mark = mock.requests.length;
    for (let i = 0; i < 5; i++) expect((await generate()).status).toBe(503);
    expect(mock.requests.length).toBe(mark);
    // the keys themselves were not cooled down: the throttling was not theirs
    const keys = await poolKeys(stack, token);
    for (const k of keys) expect(k).toMatchObject({ status: 'active', cooldowns: [], cooldownUntil: null });
    expect(await pausedSeconds()).toBeGreaterThan(0);

    // when it ends, every key serves again at once
    mock.reset();
    const t0 = Date.now();
    await poll(
      () => generate().then((r) => r.status),
      (s) => s === 200,
      6000,
      'the pool back',
    );
    expect(Date.now() - t0).toBeLessThan(5000);
    const from = mock.requests.length;
    for (let i = 0; i < 4; i++) expect((await generate()).status).toBe(200);
    expect(new Set(keysSince(mock, from))).toEqual(new Set(pool));
  });

  it('requests pinned to a key by a file wait for the pause too', async () => {
    const file = await ai.files.upload({ file: new Blob(['pinned']), config: { mimeType: 'text/plain' } });
    await throttle('6s');
    const mark = mock.requests.length;
    const r = await ai.models
      .generateContent({
        model: 'gemini-2.5-flash',
        contents: [{ role: 'user', parts: [{ fileData: { fileUri: file.uri!, mimeType: 'text/plain' } }] }],
      })
      .then(
        () => null,
        (e: { status?: number }) => e,
      );
    expect(r?.status).toBe(503);
    expect(mock.requests.length).toBe(mark);
  });

  it('a pause outlives a restart of key-pool', async () => {
    const paused = await throttle('10s');
    expect(Number(paused.retryAfter)).toBeLessThanOrEqual(10);
    await stack.signal('key-pool', 'SIGTERM');
    await stack.spawn('key-pool');
    const left = await pausedSeconds();
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThanOrEqual(10);
    const mark = mock.requests.length;
    const r = await generate();
    expect(r.status).toBe(503);
    expect(mock.requests.length).toBe(mark);
    // and the admin's reset ends it
    expect((await stack.api(token, 'POST', '/api/keys/reset')).status).toBeLessThan(300);
    expect(await pausedSeconds()).toBe(0);
  });
});
