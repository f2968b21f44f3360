import { GoogleGenAI } from '@google/genai';
import { startMockGemini, Stack, type MockGemini } from '@gg/testing';
import { createUserKey, fakeGeminiKey, maskOf, poll, poolKeys } from './helpers';
import { gatewayInSync } from './pool-support';

jest.setTimeout(90_000);

/**
 * UPSTREAM_FIRST_BYTE_TIMEOUT_SECONDS: a pool key that keeps a request waiting for its response headers is
 * abandoned after that long, counted as a failure of that key, and the request is served by another key, well
 * before the request's own deadline.
 */
describe('per-attempt first-byte timeout', () => {
  let mock: MockGemini;
  let stack: Stack;
  let admin: string;
  let ai: GoogleGenAI;
  let userKey: string;
  const hanging = fakeGeminiKey();
  const healthy = fakeGeminiKey();

  beforeAll(async () => {
    mock = await startMockGemini();
    stack = await Stack.start({
      geminiBaseUrl: mock.url,
      env: { UPSTREAM_FIRST_BYTE_TIMEOUT_SECONDS: '1', REQUEST_TIMEOUT_SECONDS: '30', KEY_MAX_FAILURES: '100' },
    });
    admin = await stack.login();
    expect((await stack.api(admin, 'POST', '/api/keys', { keys: [hanging, healthy] })).status).toBe(201);
    userKey = (await createUserKey(stack, admin, 'first-byte')).key;
    ai = new GoogleGenAI({ apiKey: userKey, httpOptions: { baseUrl: stack.gatewayUrl } });
    await gatewayInSync(stack, 2);
  });

  afterAll(async () => {
    await stack?.stop();
    await mock?.close();
  });

  beforeEach(() => {
    mock.reset();
    // the hanging key answers nothing for 20 s: far past the first-byte limit, well inside the deadline
    mock.script({ type: 'delay', firstByteMs: 20_000, key: hanging, times: Infinity });
  });

  const attemptsOn = (key: string) => mock.requests.filter((r) => r.key === key).length;

  it('serves every request from the other key within about the limit, and counts each hang on the hanging key', async () => {
    const took: number[] = [];
    for (let i = 0; i < 4; i++) {
      const t0 = Date.now();
      const r = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: `question ${i}` });
      took.push(Date.now() - t0);
      expect(r.text).toBeTruthy();
    }
    // least-busy selection tries the hanging key first at least once; the healthy key served them all
    const hangs = attemptsOn(hanging);
    expect(hangs).toBeGreaterThan(0);
    expect(attemptsOn(healthy)).toBe(4);
    // undici's headers timer is about a second precise: 1 s limit, under 3 s per request, never the 30 s deadline
    expect(Math.max(...took)).toBeLessThan(3_000);
    const ks = await poll(
      () => poolKeys(stack, admin),
      (x) => (x.find((k) => k.masked === maskOf(hanging))?.failureCount ?? 0) >= hangs,
      10_000, // a poll returns as soon as it holds; the margin is for a busy CI machine
      'the hangs counted on the hanging key',
    );
    const h = ks.find((k) => k.masked === maskOf(hanging))!;
    // another key served each request, so each hang is the key's own failure
    expect(h.failureCount).toBe(hangs);
    expect(h.lastError).toMatch(/UPSTREAM_FIRST_BYTE_TIMEOUT_SECONDS/);
    const metrics = await fetch(`${stack.metricsUrlOf('gateway')}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(new RegExp(`gateway_upstream_first_byte_timeouts_total ${hangs}\\b`));
  });

  it('fails a stream over too, since nothing has reached the client yet', async () => {
    await stack.api(admin, 'POST', '/api/keys/reset');
    let text = '';
    for (let i = 0; i < 3; i++) {
      const stream = await ai.models.generateContentStream({ model: 'gemini-2.5-flash', contents: `stream ${i}` });
      for await (const chunk of stream) text += chunk.text ?? '';
    }
    expect(text.length).toBeGreaterThan(0);
    expect(attemptsOn(healthy)).toBe(3);
  });

  it('a request every key keeps waiting ends with 504 once each key was tried, long before its deadline, and rests no key', async () => {
    mock.script({ type: 'delay', firstByteMs: 20_000, key: healthy, times: Infinity });
    const t0 = Date.now();
    const r = await fetch(`${stack.gatewayUrl}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: 'POST',
      headers: { 'x-goog-api-key': userKey, 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ parts: [{ text: 'nobody answers' }] }] }),
    });
    const body = (await r.json()) as { error: { status: string; message: string } };
    expect(r.status).toBe(504);
    expect(body.error.status).toBe('DEADLINE_EXCEEDED');
    expect(body.error.message).toMatch(/UPSTREAM_FIRST_BYTE_TIMEOUT_SECONDS/);
    expect(Date.now() - t0).toBeLessThan(6_000);
    expect(attemptsOn(hanging)).toBe(1);
    expect(attemptsOn(healthy)).toBe(1);
    // every key failed this request the same way: its failures are the request's, no key is charged
    await new Promise((r) => setTimeout(r, 300)); // fixed on purpose: nothing is to arrive, and nothing must
    const ks = await poolKeys(stack, admin);
    expect(ks.every((k) => k.status === 'active' && k.cooldownUntil === null)).toBe(true);
  });
});
