import { GoogleGenAI } from '@google/genai';
import { startMockGemini, Stack, type MockGemini } from '@gg/testing';
import { createUserKey, fakeGeminiKey, maskOf, poolKeys } from './helpers';

delete process.env.GOOGLE_GENAI_USE_VERTEXAI;
jest.setTimeout(60_000);

/** Retries before the first byte, never after; deadlines; pass-through of client errors; files and key affinity. */
describe('gateway resilience and key affinity', () => {
  let mock: MockGemini;
  let stack: Stack;
  let token: string;
  let secret: string;
  let ai: GoogleGenAI;
  const pool = [fakeGeminiKey(), fakeGeminiKey(), fakeGeminiKey(), fakeGeminiKey()];
  const generate = (text: string) =>
    fetch(`${stack.gatewayUrl}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: 'POST',
      headers: { 'x-goog-api-key': secret, 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ parts: [{ text }] }] }),
    });

  beforeAll(async () => {
    mock = await startMockGemini();
    stack = await Stack.start({ geminiBaseUrl: mock.url, env: { REQUEST_TIMEOUT_SECONDS: '2' } });
    token = await stack.login();
    expect((await stack.api(token, 'POST', '/api/keys', { keys: pool })).status).toBe(201);
    secret = (await createUserKey(stack, token, 'resilience')).key;
    ai = new GoogleGenAI({ apiKey: secret, httpOptions: { baseUrl: stack.gatewayUrl } });
    await stack.gatewayReady();
  });

  afterAll(async () => {
    await stack?.stop();
    await mock?.close();
  });

  beforeEach(async () => {
    mock.reset();
    await stack.api(token, 'POST', '/api/keys/reset');
  });

  it('retries a 503 and a connection reset on another key before the first byte', async () => {
    mock.script({ type: 'error', status: 503, times: 1 });
    mock.script({ type: 'reset', times: 1 });
    const r = await generate('retry me');
    expect(r.status).toBe(200);
    expect(await r.text()).toContain('retry me');
    const keys = mock.requests.map((x) => x.key);
    expect(keys).toHaveLength(3);
    expect(new Set(keys).size).toBe(3);
  });

  it('gives up after MAX_ATTEMPTS (3) and relays the last upstream error as is', async () => {
    mock.script({ type: 'error', status: 500, times: Infinity });
    const r = await generate('always failing');
    expect(r.status).toBe(500);
    expect(((await r.json()) as { error: { status: string } }).error.status).toBe('INTERNAL');
    expect(mock.requests).toHaveLength(3);
  });

  it('passes other 4xx answers through at once and costs the key nothing', async () => {
    mock.script({ type: 'error', status: 400, message: 'Request contains an invalid argument.', times: 1 });
    const r = await generate('bad');
    expect(r.status).toBe(400);
    expect(await r.text()).toContain('Request contains an invalid argument.');
    expect(mock.requests).toHaveLength(1);
    const used = (await poolKeys(stack, token)).find((k) => k.masked === maskOf(mock.requests[0].key))!;
    expect(used.status).toBe('active');
    expect(used.failureCount).toBe(0);
  });

  it('never retries once bytes went to the client: a broken stream is cut, not replayed', async () => {
    mock.script({ type: 'resetMidStream', afterChunks: 1, method: 'streamGenerateContent' });
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const c of await ai.models.generateContentStream({
          model: 'gemini-2.5-flash',
          contents: 'a b c d e f',
        })) {
          seen.push(c.text ?? '');
        }
      })(),
    ).rejects.toThrow();
    expect(seen).toHaveLength(1);
    expect(mock.requests).toHaveLength(1);
  });

  it('answers 504 DEADLINE_EXCEEDED when the upstream is slower than REQUEST_TIMEOUT_SECONDS', async () => {
    mock.script({ type: 'delay', firstByteMs: 5000, times: Infinity });
    const t0 = Date.now();
    const r = await generate('slow');
    expect(r.status).toBe(504);
    expect(((await r.json()) as { error: { status: string } }).error.status).toBe('DEADLINE_EXCEEDED');
    expect(Date.now() - t0).toBeLessThan(4000);
    expect(mock.requests).toHaveLength(1);
  });

  it('points the resumable upload URL at the gateway, with no key in it', async () => {
    const r = await fetch(`${stack.gatewayUrl}/upload/v1beta/files?key=${secret}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-goog-upload-protocol': 'resumable',
        'x-goog-upload-command': 'start',
        'x-goog-upload-header-content-length': '5',
        'x-goog-upload-header-content-type': 'text/plain',
      },
      body: JSON.stringify({ file: { displayName: 'a.txt' } }),
    });
    expect(r.status).toBe(200);
    const url = r.headers.get('x-goog-upload-url')!;
    expect(url.startsWith(`${stack.gatewayUrl}/upload/v1beta/files?`)).toBe(true);
    expect(url).not.toMatch(/[?&]key=/);
    for (const k of pool) expect(url).not.toContain(k);
  });

  it('keeps files on the pool key that uploaded them (SDK upload, get, and use in generateContent)', async () => {
    const file = await ai.files.upload({
      file: new Blob(['hello file']),
      config: { mimeType: 'text/plain', displayName: 'hello.txt' },
    });
    expect(file.name).toMatch(/^files\//);
    const uploadKeys = new Set(mock.requests.filter((x) => x.apiMethod === 'upload').map((x) => x.key));
    expect(uploadKeys.size).toBe(1);
    const owner = [...uploadKeys][0];
    for (let i = 0; i < 6; i++) {
      const got = await ai.files.get({ name: file.name! });
      expect(got.name).toBe(file.name);
      const r = await ai.models.generateContent({
        model: 'gemini-2.5-flash',
        contents: [
          {
            role: 'user',
            parts: [{ fileData: { fileUri: file.uri!, mimeType: 'text/plain' } }, { text: `use the file ${i}` }],
          },
        ],
      });
      expect(r.text).toContain(`use the file ${i}`);
    }
    const later = mock.requests.filter((x) => x.apiMethod !== 'upload');
    expect(later.length).toBe(12);
    expect(new Set(later.map((x) => x.key))).toEqual(new Set([owner]));
  });
  it('never passes a pool key on to the client, even inside an upstream error that echoes it', async () => {
    mock.script({ type: 'suspended', times: Infinity });
    const r = await generate('suspended everywhere');
    expect(r.status).toBe(403);
    const text = await r.text();
    expect(text).toContain('CONSUMER_SUSPENDED');
    for (const k of pool) expect(text).not.toContain(k);
  });
});
