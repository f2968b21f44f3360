import { GoogleGenAI } from '@google/genai';
import type { AddPoolKeysResult } from '@gg/contracts';
import { startMockGemini, Stack, type MockGemini } from '@gg/testing';
import { createUserKey, fakeGeminiKey, maskOf, poll, poolKeys, userKey } from './helpers';

delete process.env.GOOGLE_GENAI_USE_VERTEXAI;
jest.setTimeout(60_000);

describe.each(['sqlite', 'redis'] as const)('native Gemini path end to end (DATABASE_TYPE=%s)', (databaseType) => {
  let mock: MockGemini;
  let stack: Stack;
  let token: string;
  let secret: string;
  let ai: GoogleGenAI;
  const pool = [fakeGeminiKey(), fakeGeminiKey(), fakeGeminiKey()];

  beforeAll(async () => {
    mock = await startMockGemini();
    stack = await Stack.start({ geminiBaseUrl: mock.url, databaseType });
    token = await stack.login();
    const added = await stack.api<AddPoolKeysResult>(token, 'POST', '/api/keys', {
      keys: `${pool[0]}\n${pool[1]},${pool[2]}\n${pool[0]}`,
    });
    expect(added.status).toBe(201);
    expect(added.body.added).toHaveLength(3);
    expect(added.body.duplicates).toBe(1);
    expect(mock.requests).toHaveLength(0); // adding keys sends nothing upstream
    const k = await createUserKey(stack, token, 'e2e');
    secret = k.key;
    ai = new GoogleGenAI({ apiKey: secret, httpOptions: { baseUrl: stack.gatewayUrl } });
    // the gateway learns the pool by push; wait until it can serve
    await stack.gatewayReady();
  });

  afterAll(async () => {
    await stack?.stop();
    await mock?.close();
  });

  beforeEach(() => mock.reset());

  it('answers generateContent through the SDK, and the upstream only ever sees pool keys', async () => {
    const r = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'hello there' });
    expect(r.text).toContain('hello there');
    expect(r.usageMetadata?.promptTokenCount).toBeGreaterThan(0);
    expect(mock.requests).toHaveLength(1);
    const seen = mock.requests[0];
    expect(pool).toContain(seen.key);
    expect(JSON.stringify(seen.headers)).not.toContain(secret);
    expect(JSON.stringify(seen.query)).not.toContain(secret);
  });

  it('streams with the SDK (alt=sse), chunk by chunk as the upstream sends them', async () => {
    mock.script({
      type: 'stream',
      chunks: ['one ', 'two ', 'three'],
      intervalMs: 400,
      method: 'streamGenerateContent',
    });
    const arrivals: number[] = [];
    const texts: string[] = [];
    const started = Date.now();
    for await (const chunk of await ai.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'count' })) {
      arrivals.push(Date.now() - started);
      texts.push(chunk.text ?? '');
    }
    expect(texts.join('')).toBe('one two three');
    expect(arrivals).toHaveLength(3);
    // had the gateway buffered, every chunk would arrive together at the end
    expect(arrivals[1] - arrivals[0]).toBeGreaterThan(250);
    expect(arrivals[2] - arrivals[1]).toBeGreaterThan(250);
  });

  it('relays both stream framings byte for byte', async () => {
    for (const query of ['?alt=sse', '']) {
      const body = JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'bytes please' }] }] });
      const path = `/v1beta/models/gemini-2.5-flash:streamGenerateContent${query}`;
      const via = await fetch(`${stack.gatewayUrl}${path}`, {
        method: 'POST',
        headers: { 'x-goog-api-key': secret, 'content-type': 'application/json' },
        body,
      });
      const direct = await fetch(`${mock.url}${path}`, {
        method: 'POST',
        headers: { 'x-goog-api-key': pool[0], 'content-type': 'application/json' },
        body,
      });
      expect(via.status).toBe(200);
      expect(via.headers.get('content-type')).toBe(direct.headers.get('content-type'));
      expect(via.headers.get('x-request-id')).toBeTruthy();
      const [a, b] = [await via.text(), await direct.text()];
      // responseId and the mock's send timestamps differ per call; the framing must not
      const norm = (s: string) =>
        s.replace(/"responseId": ?"[^"]*"/g, '"responseId":"X"').replace(/"sentAt": ?[\d.]+/g, '"sentAt":0');
      expect(norm(a)).toBe(norm(b));
      if (query) expect(a).toMatch(/^data: \{.*\}\r\n\r\ndata: /);
      else expect(a.startsWith('[{\n')).toBe(true);
    }
  });

  it('serves countTokens, embedContent, models.list and models.get through the SDK', async () => {
    const count = await ai.models.countTokens({ model: 'gemini-2.5-flash', contents: 'four words right here' });
    expect(count.totalTokens).toBeGreaterThan(0);
    const emb = await ai.models.embedContent({ model: 'gemini-embedding-001', contents: ['a text', 'another'] });
    expect(emb.embeddings).toHaveLength(2);
    expect(emb.embeddings?.[0].values?.length).toBeGreaterThan(0);
    const names: string[] = [];
    for await (const m of await ai.models.list()) names.push(m.name ?? '');
    expect(names).toContain('models/gemini-2.5-flash');
    const one = await ai.models.get({ model: 'gemini-2.5-pro' });
    expect(one.name).toBe('models/gemini-2.5-pro');
  });

  it('accepts the user key as ?key= and as a Bearer token, and removes it before forwarding', async () => {
    const body = JSON.stringify({ contents: [{ parts: [{ text: 'hi' }] }] });
    const a = await fetch(`${stack.gatewayUrl}/v1/models/gemini-2.5-flash:generateContent?key=${secret}`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json' },
    });
    const b = await fetch(`${stack.gatewayUrl}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: 'POST',
      body,
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
    });
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(mock.requests.map((r) => r.path)).toEqual([
      '/v1/models/gemini-2.5-flash:generateContent',
      '/v1beta/models/gemini-2.5-flash:generateContent',
    ]);
    for (const r of mock.requests) {
      expect(r.query.key).toBeUndefined();
      expect(r.headers.authorization).toBeUndefined();
      expect(pool).toContain(r.key);
    }
  });

  it('refuses missing, unknown and forged keys with 401 in Google shape', async () => {
    const url = `${stack.gatewayUrl}/v1beta/models/gemini-2.5-flash:generateContent`;
    const forged = secret.slice(0, -3) + (secret.endsWith('AAA') ? 'BBB' : 'AAA');
    for (const headers of [{}, { 'x-goog-api-key': forged }, { 'x-goog-api-key': 'AIzaNotOurs' }] as Record<
      string,
      string
    >[]) {
      const r = await fetch(url, { method: 'POST', headers, body: '{}' });
      expect(r.status).toBe(401);
      const body = (await r.json()) as { error: unknown };
      expect(body.error).toMatchObject({ code: 401, status: 'UNAUTHENTICATED' });
      expect(r.headers.get('x-request-id')).toBeTruthy();
    }
    expect(mock.requests).toHaveLength(0);
  });

  it('keeps a sane client x-request-id', async () => {
    const r = await fetch(`${stack.gatewayUrl}/v1beta/models`, {
      headers: { 'x-goog-api-key': secret, 'x-request-id': 'my-trace-123' },
    });
    expect(r.headers.get('x-request-id')).toBe('my-trace-123');
  });

  it('frees the pool key at once when the client drops a stream', async () => {
    mock.script({
      type: 'stream',
      chunks: Array.from({ length: 50 }, (_, i) => `c${i} `),
      intervalMs: 200,
      method: 'streamGenerateContent',
    });
    const ctl = new AbortController();
    const res = await fetch(`${stack.gatewayUrl}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`, {
      method: 'POST',
      headers: { 'x-goog-api-key': secret, 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ parts: [{ text: 'long' }] }] }),
      signal: ctl.signal,
    });
    const reader = res.body!.getReader();
    await reader.read();
    const busy = await poll(
      () => poolKeys(stack, token),
      (ks) => ks.some((k) => k.inUse === 1 && k.isInUse),
      3000,
      'a key in use',
    );
    expect(busy.filter((k) => k.isInUse)).toHaveLength(1);
    ctl.abort();
    const t0 = Date.now();
    await poll(
      () => poolKeys(stack, token),
      (ks) => ks.every((k) => k.inUse === 0 && !k.isInUse),
      3000,
      'keys freed',
    );
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('skips rate-limited and invalid pool keys and shows them as cooldown and disabled', async () => {
    mock.script({ type: 'rateLimit', retryDelay: '40s', key: pool[0], times: Infinity });
    mock.script({ type: 'invalidKey', key: pool[1], times: Infinity });
    for (let i = 0; i < 3; i++) {
      const r = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: `try ${i}` });
      expect(r.text).toContain(`try ${i}`);
    }
    const keys = await poll(
      () => poolKeys(stack, token),
      (ks) =>
        ks.find((k) => k.masked === maskOf(pool[0]))?.status === 'cooldown' &&
        ks.find((k) => k.masked === maskOf(pool[1]))?.status === 'disabled',
      5000,
      'cooldown and disabled states',
    );
    const limited = keys.find((k) => k.masked === maskOf(pool[0]))!;
    expect(limited.cooldowns).toEqual([expect.objectContaining({ model: 'gemini-2.5-flash' })]);
    const until = Date.parse(limited.cooldowns[0].until) - Date.now();
    expect(until).toBeGreaterThan(30_000);
    expect(until).toBeLessThanOrEqual(41_000);
    expect(keys.find((k) => k.masked === maskOf(pool[1]))!.lastError).toMatch(/API key|API_KEY_INVALID/i);
    // once marked, they are no longer tried: every later call goes straight to the good key
    mock.clearRequests();
    await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'again' });
    expect(mock.requests.map((r) => r.key)).toEqual([pool[2]]);
    // another model is not cooled down on the rate-limited key
    const other = await ai.models.generateContent({ model: 'gemini-2.5-pro', contents: 'other model' });
    expect(other.text).toContain('other model');
  });

  it('answers 503 UNAVAILABLE with Retry-After when no pool key can serve', async () => {
    mock.script({ type: 'rateLimit', retryDelay: '20s', key: pool[2], times: Infinity });
    await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'x' }).catch(() => undefined);
    await poll(
      () => poolKeys(stack, token),
      (ks) => ks.find((k) => k.masked === maskOf(pool[2]))?.status === 'cooldown',
      5000,
      'last key cooling',
    );
    const r = await fetch(`${stack.gatewayUrl}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: 'POST',
      headers: { 'x-goog-api-key': secret, 'content-type': 'application/json' },
      body: '{"contents":[{"parts":[{"text":"x"}]}]}',
    });
    expect(r.status).toBe(503);
    expect(((await r.json()) as { error: { status: string } }).error.status).toBe('UNAVAILABLE');
    const retryAfter = Number(r.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(41);
    // reset brings them back
    const reset = await stack.api(token, 'POST', '/api/keys/reset');
    expect(reset.status).toBeLessThan(300);
    mock.reset();
    await poll(
      () =>
        fetch(`${stack.gatewayUrl}/v1beta/models/gemini-2.5-flash:generateContent`, {
          method: 'POST',
          headers: { 'x-goog-api-key': secret },
          body: '{"contents":[{"parts":[{"text":"x"}]}]}',
        }).then((x) => x.status),
      (s) => s === 200,
      3000,
      'pool usable after reset',
    );
  });

  it('counts exactly one call per authenticated request', async () => {
    const counted = await createUserKey(stack, token, 'counted');
    const client = new GoogleGenAI({ apiKey: counted.key, httpOptions: { baseUrl: stack.gatewayUrl } });
    mock.script({ type: 'error', status: 400, message: 'bad request', times: 1 });
    const calls = 7;
    const results = await Promise.allSettled(
      Array.from({ length: calls }, (_, i) =>
        client.models.generateContent({ model: 'gemini-2.5-flash', contents: `n${i}` }),
      ),
    );
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1); // the scripted 400 is counted too
    const k = await poll(
      () => userKey(stack, token, counted.id),
      (x) => (x?.callCount ?? 0) >= calls,
      5000,
      'call count',
    );
    expect(k?.callCount).toBe(calls);
    expect(k?.promptTokens).toBeGreaterThan(0);
    expect(k?.outputTokens).toBeGreaterThan(0);
    expect(k?.lastUsedAt).toBeTruthy();
    await new Promise((r) => setTimeout(r, 500)); // nothing more may arrive: a fixed window proves an absence
    expect((await userKey(stack, token, counted.id))?.callCount).toBe(calls);
  });

  it('refuses a deactivated user key within 1 s', async () => {
    const k = await createUserKey(stack, token, 'to-deactivate');
    const client = new GoogleGenAI({ apiKey: k.key, httpOptions: { baseUrl: stack.gatewayUrl } });
    await client.models.generateContent({ model: 'gemini-2.5-flash', contents: 'warm the cache' });
    const patched = await stack.api(token, 'PATCH', `/api/auth-keys/${k.id}`, { isActive: false });
    expect(patched.status).toBe(200);
    const t0 = Date.now();
    await poll(
      () => fetch(`${stack.gatewayUrl}/v1beta/models`, { headers: { 'x-goog-api-key': k.key } }).then((r) => r.status),
      (s) => s === 401,
      1000,
      'deactivated key refused',
    );
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});
