import { GoogleGenAI } from '@google/genai';
import { startMockGemini, Stack, type MockGemini } from '@gg/testing';
import { createUserKey, fakeGeminiKey } from './helpers';

delete process.env.GOOGLE_GENAI_USE_VERTEXAI;
jest.setTimeout(60_000);

/**
 * Key affinity across two gateway replicas: files, resumable upload sessions, cached contents and batches belong to
 * the project of the pool key that created them (any other key gets 403), so every later use goes to that key. The
 * records hold the owning user too (resource-ownership.e2e-spec.ts); here one user does everything.
 */
describe('pool key affinity (two gateway replicas)', () => {
  let mock: MockGemini;
  let stack: Stack;
  let secret: string;
  let ai0: GoogleGenAI;
  let ai1: GoogleGenAI;
  const pool = Array.from({ length: 3 }, () => fakeGeminiKey());
  const keysOf = (method: string, from = 0) =>
    mock.requests
      .slice(from)
      .filter((r) => r.apiMethod === method)
      .map((r) => r.key);

  beforeAll(async () => {
    mock = await startMockGemini();
    stack = await Stack.start({ geminiBaseUrl: mock.url, gateways: 2 });
    const token = await stack.login();
    expect((await stack.api(token, 'POST', '/api/keys', { keys: pool })).status).toBe(201);
    secret = (await createUserKey(stack, token, 'pool-affinity')).key;
    ai0 = new GoogleGenAI({ apiKey: secret, httpOptions: { baseUrl: stack.urlOf('gateway', 0) } });
    ai1 = new GoogleGenAI({ apiKey: secret, httpOptions: { baseUrl: stack.urlOf('gateway', 1) } });
    for (const i of [0, 1]) {
      await stack.gatewayReady(i);
    }
  });

  afterAll(async () => {
    await stack?.stop();
    await mock?.close();
  });

  beforeEach(() => mock.reset());

  it('a file uploaded with the SDK through one replica is used on its key through either replica', async () => {
    const file = await ai0.files.upload({
      file: new Blob(['the file body']),
      config: { mimeType: 'text/plain', displayName: 'a.txt' },
    });
    expect(file.name).toMatch(/^files\//);
    const owners = new Set(keysOf('upload'));
    expect(owners.size).toBe(1);
    const [owner] = owners;
    const from = mock.requests.length;
    for (let i = 0; i < 4; i++) {
      for (const ai of [ai0, ai1]) {
        expect((await ai.files.get({ name: file.name! })).name).toBe(file.name);
        const r = await ai.models.generateContent({
          model: 'gemini-2.5-flash',
          contents: [
            {
              role: 'user',
              parts: [{ fileData: { fileUri: file.uri!, mimeType: 'text/plain' } }, { text: `use it ${i}` }],
            },
          ],
        });
        expect(r.text).toContain(`use it ${i}`);
      }
    }
    // meanwhile other requests still go round the pool
    for (let i = 0; i < 3; i++) await ai1.models.generateContent({ model: 'gemini-2.5-flash', contents: `free ${i}` });
    const used = mock.requests.slice(from);
    expect(
      used.filter((r) => r.bodyText.includes(file.name!) || r.path.includes(file.name!)).map((r) => r.key),
    ).toEqual(Array(16).fill(owner));
    expect(new Set(used.filter((r) => r.bodyText.includes('free')).map((r) => r.key)).size).toBe(3);
    await ai1.files.delete({ name: file.name! });
    expect(mock.requests[mock.requests.length - 1]).toMatchObject({ apiMethod: 'files.delete', key: owner });
  });

  it('an upload session stays on the key that started it; its URL points at the gateway and carries no key', async () => {
    const gw0 = stack.urlOf('gateway', 0);
    const gw1 = stack.urlOf('gateway', 1);
    const sessions: { url: string; text: string }[] = [];
    for (let i = 0; i < 3; i++) {
      const text = `chunk body ${i}`;
      const r = await fetch(`${gw0}/upload/v1beta/files?key=${secret}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-goog-upload-protocol': 'resumable',
          'x-goog-upload-command': 'start',
          'x-goog-upload-header-content-length': String(text.length),
          'x-goog-upload-header-content-type': 'text/plain',
        },
        body: JSON.stringify({ file: { displayName: `s${i}.txt` } }),
      });
      expect(r.status).toBe(200);
      const url = r.headers.get('x-goog-upload-url')!;
      expect(url.startsWith(`${gw0}/upload/v1beta/files?`)).toBe(true);
      expect(url).not.toMatch(/[?&]key=/);
      for (const k of [secret, ...pool]) expect(url).not.toContain(k);
      sessions.push({ url, text });
    }
    const starters = keysOf('upload');
    expect(new Set(starters).size).toBe(3); // the starts went round the pool
    // the chunks go through the other replica, which must send each to its session's key
    for (const s of sessions) {
      const r = await fetch(s.url.replace(gw0, gw1), {
        method: 'POST',
        headers: { 'x-goog-api-key': secret, 'x-goog-upload-command': 'upload, finalize', 'x-goog-upload-offset': '0' },
        body: s.text,
      });
      expect(r.status).toBe(200);
      expect(r.headers.get('x-goog-upload-status')).toBe('final');
      expect(((await r.json()) as { file: { sizeBytes: string } }).file.sizeBytes).toBe(String(s.text.length));
    }
    expect(keysOf('upload').slice(3)).toEqual(starters);
  });

  it('a cached content stays on the key that created it', async () => {
    const cache = await ai1.caches.create({
      model: 'gemini-2.5-flash',
      config: { contents: [{ role: 'user', parts: [{ text: 'a long shared context '.repeat(20) }] }], ttl: '300s' },
    });
    expect(cache.name).toMatch(/^cachedContents\//);
    const [owner] = keysOf('cachedContents.create');
    const from = mock.requests.length;
    for (let i = 0; i < 3; i++) {
      for (const ai of [ai0, ai1]) {
        const r = await ai.models.generateContent({
          model: 'gemini-2.5-flash',
          contents: `question ${i}`,
          config: { cachedContent: cache.name },
        });
        expect(r.text).toContain(`question ${i}`);
        expect(r.usageMetadata?.cachedContentTokenCount).toBeGreaterThan(0);
      }
    }
    expect((await ai0.caches.get({ name: cache.name! })).name).toBe(cache.name);
    expect(keysOf('generateContent', from)).toEqual(Array(6).fill(owner));
    expect(keysOf('cachedContents.get', from)).toEqual([owner]);
  });

  it('a batch, its input file and its result file stay on the key that created the batch', async () => {
    const input = await ai0.files.upload({
      file: new Blob(['{"request":{}}\n']),
      config: { mimeType: 'application/jsonl' },
    });
    const [owner] = keysOf('upload');
    const from = mock.requests.length;
    const job = await ai1.batches.create({ model: 'gemini-2.5-flash', src: input.name! });
    for (const ai of [ai0, ai1, ai0])
      expect((await ai.batches.get({ name: job.name! })).state).toBe('JOB_STATE_SUCCEEDED');
    const results = (await ai1.batches.get({ name: job.name! })).dest!.fileName!;
    expect((await ai0.files.get({ name: results })).name).toBe(results);
    const listed: string[] = [];
    for await (const j of await ai1.batches.list()) listed.push(j.name!);
    expect(listed).toEqual([job.name]);
    await ai0.batches.delete({ name: job.name! });
    expect(new Set(mock.requests.slice(from).map((r) => r.key))).toEqual(new Set([owner]));
  });
});
