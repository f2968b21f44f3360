import { ApiError, GoogleGenAI } from '@google/genai';
import { request } from 'undici';
import { constants, gunzipSync } from 'node:zlib';

import { startMockGemini, type MockGemini } from '@gg/testing';

const KEY = 'AIzaMockKeyOwnerA';
const OTHER = 'AIzaMockKeyOtherB';
const FLASH = '/v1beta/models/gemini-2.5-flash';
const hello = { contents: [{ role: 'user', parts: [{ text: 'hello mock world' }] }] };

let mock: MockGemini;

beforeAll(async () => {
  delete process.env.GOOGLE_GENAI_USE_VERTEXAI;
  mock = await startMockGemini();
});
afterAll(() => mock.close());
beforeEach(() => mock.reset());

const sdk = (apiKey = KEY): GoogleGenAI => new GoogleGenAI({ apiKey, httpOptions: { baseUrl: mock.url } });

/** Raw bytes (undici.request never decompresses). */
async function raw(path: string, body?: unknown, headers: Record<string, string> = {}, method?: string) {
  const res = await request(mock.url + path, {
    method: (method ?? (body === undefined ? 'GET' : 'POST')) as 'GET',
    headers: { 'x-goog-api-key': KEY, 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const bytes = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers, bytes, text: bytes.toString('utf8') };
}

async function sdkError(p: Promise<unknown>): Promise<ApiError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApiError);
  return err as ApiError;
}

describe('model methods through the official SDK', () => {
  it('generateContent echoes the last user text with word-count usage', async () => {
    const r = await sdk().models.generateContent({ model: 'gemini-2.5-flash', contents: 'hello mock world' });
    expect(r.text).toBe('echo: hello mock world');
    expect(r.usageMetadata).toMatchObject({ promptTokenCount: 3, candidatesTokenCount: 4, totalTokenCount: 7 });
    expect(r.usageMetadata?.thoughtsTokenCount).toBeUndefined();
    expect(mock.requests).toHaveLength(1);
    expect(mock.requests[0]).toMatchObject({
      method: 'POST',
      path: `${FLASH}:generateContent`,
      key: KEY,
      apiMethod: 'generateContent',
      model: 'gemini-2.5-flash',
    });
  });

  it('generateContentStream yields 3 chunks with cumulative usage, one responseId and STOP last', async () => {
    const chunks = [];
    for await (const c of await sdk().models.generateContentStream({
      model: 'gemini-2.5-flash',
      contents: 'count to three',
    }))
      chunks.push(c);
    expect(chunks.map((c) => c.text)).toEqual(['echo:', ' count', ' to three']);
    expect(chunks.map((c) => c.usageMetadata?.candidatesTokenCount)).toEqual([1, 2, 4]);
    expect(chunks.map((c) => c.usageMetadata?.promptTokenCount)).toEqual([3, 3, 3]);
    expect(new Set(chunks.map((c) => c.responseId)).size).toBe(1);
    expect(chunks.map((c) => c.candidates?.[0].finishReason)).toEqual([undefined, undefined, 'STOP']);
    expect(mock.requests[0].query).toEqual({ alt: 'sse' });
  });

  it('answers a declared function with a functionCall carrying an id and a thoughtSignature', async () => {
    const config = { tools: [{ functionDeclarations: [{ name: 'get_weather', description: 'weather' }] }] };
    const contents = 'please call get_weather {"city":"Paris"}';
    const r = await sdk().models.generateContent({ model: 'gemini-3-flash-preview', contents, config });
    expect(r.functionCalls).toEqual([
      { id: expect.stringMatching(/^[a-z0-9]{8}$/), name: 'get_weather', args: { city: 'Paris' } },
    ]);
    expect(r.candidates?.[0].content?.parts?.[0].thoughtSignature).toEqual(expect.any(String));
    const chunks = [];
    for await (const c of await sdk().models.generateContentStream({
      model: 'gemini-3-flash-preview',
      contents,
      config,
    }))
      chunks.push(c);
    expect(chunks[0].functionCalls?.[0].name).toBe('get_weather');
    expect(chunks[1].candidates?.[0]).toMatchObject({ content: { parts: [{ text: '' }] }, finishReason: 'STOP' });
  });

  it('countTokens, embedContent (batchEmbedContents), models.list and models.get', async () => {
    const ai = sdk();
    expect(
      (await ai.models.countTokens({ model: 'gemini-2.5-flash', contents: 'one two three four' })).totalTokens,
    ).toBe(4);
    const e1 = await ai.models.embedContent({ model: 'gemini-embedding-001', contents: ['alpha', 'beta'] });
    const e2 = await ai.models.embedContent({
      model: 'gemini-embedding-001',
      contents: 'alpha',
      config: { outputDimensionality: 16 },
    });
    expect(e1.embeddings?.map((e) => e.values?.length)).toEqual([8, 8]);
    expect(e1.embeddings?.[0].values).not.toEqual(e1.embeddings?.[1].values);
    expect(e2.embeddings?.[0].values).toHaveLength(16);
    expect(mock.requests.map((r) => r.apiMethod)).toEqual(['countTokens', 'batchEmbedContents', 'batchEmbedContents']);

    const names: string[] = [];
    for await (const m of await ai.models.list({ config: { pageSize: 2 } })) names.push(m.name ?? '');
    expect(names).toEqual(
      expect.arrayContaining([
        'models/gemini-2.5-flash',
        'models/gemini-2.5-pro',
        'models/gemini-3-flash-preview',
        'models/gemini-embedding-001',
      ]),
    );
    expect(mock.requests.filter((r) => r.apiMethod === 'models.list').length).toBeGreaterThan(1);
    expect((await ai.models.get({ model: 'gemini-2.5-pro' })).displayName).toBe('Gemini 2.5 Pro');
    expect((await sdkError(ai.models.get({ model: 'gemini-0-nope' }))).status).toBe(404);
  });

  it('embeds deterministically', async () => {
    const body = { content: { parts: [{ text: 'same text' }] } };
    const a = JSON.parse((await raw('/v1/models/gemini-embedding-001:embedContent', body)).text);
    const b = JSON.parse((await raw('/v1beta/models/gemini-embedding-001:embedContent', body)).text);
    expect(a.embedding.values).toHaveLength(8);
    expect(a).toEqual(b);
  });
});

describe('exact wire format', () => {
  it('unary: 2-space JSON, Google headers, a trailing newline', async () => {
    const r = await raw(`${FLASH}:generateContent`, hello);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json; charset=UTF-8');
    expect(r.headers['server']).toBe('scaffolding on HTTPServer2');
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.headers['vary']).toEqual(expect.arrayContaining(['Origin', 'X-Origin', 'Referer']));
    expect(r.headers['alt-svc']).toContain('h3=":443"');
    expect(r.text).toBe(JSON.stringify(JSON.parse(r.text), null, 2) + '\n');
  });

  it('SSE: data: <one line with ": ">\\r\\n\\r\\n per chunk, nothing else', async () => {
    const r = await raw(`${FLASH}:streamGenerateContent?alt=sse`, hello);
    expect(r.headers['content-type']).toBe('text/event-stream');
    expect(r.headers['content-disposition']).toBe('attachment');
    const events = r.text.split('\r\n\r\n');
    expect(events.pop()).toBe('');
    expect(events).toHaveLength(3);
    for (const e of events) {
      expect(e).toMatch(/^data: \{"candidates": \[\{"content": \{"parts": \[\{"text": "[^"]*"\}\],"role": "model"\}/);
      expect(e).not.toMatch(/[\r\n]/);
      const chunk = JSON.parse(e.slice(6));
      expect(Math.abs(chunk.sentAt - Date.now())).toBeLessThan(5000);
    }
    expect(events[2]).toContain('"finishReason": "STOP","index": 0}]');
  });

  it('no alt: a JSON array streamed as [{pretty}\\n,\\r\\n{pretty}\\n]', async () => {
    const r = await raw(`${FLASH}:streamGenerateContent`, hello);
    expect(r.headers['content-type']).toBe('application/json; charset=UTF-8');
    expect(r.text.startsWith('[{\n  "candidates": [\n')).toBe(true);
    expect(r.text.endsWith('\n}\n]')).toBe(true);
    const elements = r.text.slice(1, -2).split('\n,\r\n');
    expect(elements).toHaveLength(3);
    for (const el of elements) expect(el).toBe(JSON.stringify(JSON.parse(el), null, 2));
    expect(
      JSON.parse(r.text)
        .map((c: { candidates: { content: { parts: { text: string }[] } }[] }) => c.candidates[0].content.parts[0].text)
        .join(''),
    ).toBe('echo: hello mock world');
  });

  it('gzip: unary and streams are compressed, streams incrementally (sync flush)', async () => {
    const plain = await raw(`${FLASH}:generateContent`, hello);
    const gz = await raw(`${FLASH}:generateContent`, hello, { 'accept-encoding': 'gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.bytes).toString()).toBe(plain.text);

    mock.script({ type: 'stream', chunks: ['one', ' two', ' three'], intervalMs: 300 });
    const res = await request(`${mock.url}${FLASH}:streamGenerateContent?alt=sse`, {
      method: 'POST',
      headers: { 'x-goog-api-key': KEY, 'accept-encoding': 'gzip' },
      body: JSON.stringify(hello),
    });
    expect(res.headers['content-encoding']).toBe('gzip');
    const received: Buffer[] = [];
    let firstEventBeforeEnd = '';
    for await (const part of res.body) {
      received.push(part as Buffer);
      if (!firstEventBeforeEnd)
        firstEventBeforeEnd = gunzipSync(Buffer.concat(received), { finishFlush: constants.Z_SYNC_FLUSH }).toString();
    }
    expect(firstEventBeforeEnd).toMatch(/^data: .*"text": "one".*\r\n\r\n$/);
    expect(gunzipSync(Buffer.concat(received)).toString().split('\r\n\r\n')).toHaveLength(4);
  });
});

describe('authentication', () => {
  it('403 without a key, 400 API_KEY_INVALID for an unknown one, ?key= and openai Bearer accepted', async () => {
    const none = await raw(`${FLASH}:generateContent`, hello, { 'x-goog-api-key': '' });
    expect(none.status).toBe(403);
    expect(JSON.parse(none.text).error.message).toMatch(/^Method doesn't allow unregistered callers/);
    const bad = await sdkError(sdk('not-a-key').models.generateContent({ model: 'gemini-2.5-flash', contents: 'x' }));
    expect(bad.status).toBe(400);
    const badBody = JSON.parse((await raw(`${FLASH}:generateContent`, hello, { 'x-goog-api-key': 'nope' })).text);
    expect(badBody.error.details.map((d: { reason?: string; '@type': string }) => d.reason ?? d['@type'])).toEqual([
      'API_KEY_INVALID',
      'type.googleapis.com/google.rpc.LocalizedMessage',
    ]);
    expect((await raw(`${FLASH}:generateContent?key=${KEY}`, hello, { 'x-goog-api-key': '' })).status).toBe(200);
    expect(mock.requests.at(-1)?.key).toBe(KEY);
    expect(
      (await raw('/v1beta/openai/models', undefined, { 'x-goog-api-key': '', authorization: `Bearer ${KEY}` })).status,
    ).toBe(404);
    expect((await raw('/v1beta/openai/models', undefined, { 'x-goog-api-key': '' })).status).toBe(403);
  });

  it('validKeys restricts the accepted keys; addKeys extends them', async () => {
    const strict = await startMockGemini({ validKeys: ['k1'] });
    try {
      const call = (key: string) =>
        request(`${strict.url}/v1/models`, { headers: { 'x-goog-api-key': key } }).then(
          async (r) => (await r.body.dump(), r.statusCode),
        );
      expect([await call('k1'), await call(KEY), await call('k2')]).toEqual([200, 400, 400]);
      strict.addKeys('k2');
      expect(await call('k2')).toBe(200);
    } finally {
      await strict.close();
    }
  });
});

describe('scripted failures', () => {
  it('rateLimit: 429 with QuotaFailure, Help and RetryInfo, for `times` matching requests only', async () => {
    mock.script({ type: 'rateLimit', key: KEY, retryDelay: '12s', times: 2 });
    const first = await raw(`${FLASH}:generateContent`, hello);
    expect(first.status).toBe(429);
    expect(first.headers['content-type']).toBe('application/json; charset=UTF-8');
    expect(first.text).toBe(JSON.stringify(JSON.parse(first.text), null, 2) + '\n');
    const error = JSON.parse(first.text).error;
    expect(error).toMatchObject({ code: 429, status: 'RESOURCE_EXHAUSTED' });
    expect(error.details.map((d: { '@type': string }) => d['@type'].split('.').pop())).toEqual([
      'QuotaFailure',
      'Help',
      'RetryInfo',
    ]);
    expect(error.details[0].violations[0]).toMatchObject({
      quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier',
      quotaDimensions: { model: 'gemini-2.5-flash' },
    });
    expect(error.details[2].retryDelay).toBe('12s');
    expect((await raw(`${FLASH}:generateContent`, hello, { 'x-goog-api-key': OTHER })).status).toBe(200);
    expect((await sdkError(sdk().models.generateContent({ model: 'gemini-2.5-flash', contents: 'x' }))).status).toBe(
      429,
    );
    expect((await raw(`${FLASH}:generateContent`, hello)).status).toBe(200);
  });

  it('invalidKey, suspended and generic errors, matched by model and method', async () => {
    mock.script({ type: 'invalidKey', method: 'countTokens' });
    mock.script({ type: 'suspended', model: 'gemini-2.5-pro' });
    mock.script({ type: 'error', status: 503 });
    mock.script({ type: 'error', status: 500, message: 'boom' });
    const invalid = JSON.parse((await raw(`${FLASH}:countTokens`, hello)).text).error;
    expect(invalid).toMatchObject({
      code: 400,
      status: 'INVALID_ARGUMENT',
      message: 'API key not valid. Please pass a valid API key.',
    });
    const susp = JSON.parse((await raw('/v1beta/models/gemini-2.5-pro:generateContent', hello)).text).error;
    expect(susp).toMatchObject({
      code: 403,
      status: 'PERMISSION_DENIED',
      details: [{ reason: 'CONSUMER_SUSPENDED' }, expect.anything()],
    });
    const overloaded = await raw(`${FLASH}:generateContent`, hello);
    expect([overloaded.status, JSON.parse(overloaded.text).error.message]).toEqual([
      503,
      'The model is overloaded. Please try again later.',
    ]);
    expect(JSON.parse((await raw('/v1beta/models', undefined)).text).error).toEqual({
      code: 500,
      message: 'boom',
      status: 'INTERNAL',
    });
  });

  it('no-alt stream errors come array-wrapped', async () => {
    mock.script({ type: 'error', status: 503 });
    const r = await raw(`${FLASH}:streamGenerateContent`, hello);
    expect(r.status).toBe(503);
    expect(JSON.parse(r.text)[0].error.status).toBe('UNAVAILABLE');
  });

  it('reset drops the connection before any header', async () => {
    mock.script({ type: 'reset' });
    await expect(raw(`${FLASH}:generateContent`, hello)).rejects.toThrow();
    expect((await raw(`${FLASH}:generateContent`, hello)).status).toBe(200);
  });

  it('resetMidStream: n chunks, then the connection closes (SSE and unary)', async () => {
    mock.script({ type: 'resetMidStream', afterChunks: 2 });
    const seen: string[] = [];
    const iterate = async () => {
      for await (const c of await sdk().models.generateContentStream({
        model: 'gemini-2.5-flash',
        contents: 'a b c d',
      }))
        seen.push(c.text ?? '');
    };
    await expect(iterate()).rejects.toThrow();
    expect(seen).toEqual(['echo:', ' a b']);
    mock.script({ type: 'resetMidStream', afterChunks: 0, method: 'generateContent' });
    await expect(raw(`${FLASH}:generateContent`, hello)).rejects.toThrow();
  });

  it('errorMidStream: n SSE chunks then a bare {"error": …}; the SDK throws ApiError 500', async () => {
    mock.script({ type: 'errorMidStream', afterChunks: 1 });
    const r = await raw(`${FLASH}:streamGenerateContent?alt=sse`, hello);
    expect(r.status).toBe(200);
    expect(r.text).toMatch(
      /^data: [^\r\n]+\r\n\r\n\{"error": \{"code": 500, "message": "Internal error", "status": "INTERNAL"\}\}$/,
    );
    mock.script({ type: 'errorMidStream', afterChunks: 1 });
    const seen: string[] = [];
    const err = await sdkError(
      (async () => {
        for await (const c of await sdk().models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'x y' }))
          seen.push(c.text ?? '');
      })(),
    );
    expect([seen, err.status]).toEqual([['echo:'], 500]);
  });

  it('delay holds the first byte; stream overrides texts and pacing, each chunk stamped with sentAt', async () => {
    mock.script({ type: 'delay', firstByteMs: 150 });
    const t0 = performance.now();
    await raw('/v1beta/models', undefined);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(145);

    mock.script({ type: 'stream', chunks: ['a', 'b', 'c'], intervalMs: 100, times: Infinity });
    for (let i = 0; i < 2; i++) {
      const chunks = [];
      for await (const c of await sdk().models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'x' }))
        chunks.push(c);
      expect(chunks.map((c) => c.text)).toEqual(['a', 'b', 'c']);
    }
    const res = await request(`${mock.url}${FLASH}:streamGenerateContent?alt=sse`, {
      method: 'POST',
      headers: { 'x-goog-api-key': KEY },
      body: JSON.stringify(hello),
    });
    const arrivals: { sentAt: number; at: number }[] = [];
    for await (const part of res.body) {
      const at = performance.timeOrigin + performance.now();
      for (const e of String(part).split('\r\n\r\n').filter(Boolean))
        arrivals.push({ sentAt: JSON.parse(e.slice(6)).sentAt, at });
    }
    expect(arrivals).toHaveLength(3);
    expect(arrivals[2].sentAt - arrivals[0].sentAt).toBeGreaterThanOrEqual(195);
    for (const a of arrivals) expect(a.at - a.sentAt).toBeGreaterThanOrEqual(0);
    for (const a of arrivals) expect(a.at - a.sentAt).toBeLessThan(100);
    expect((await sdk().models.generateContent({ model: 'gemini-2.5-flash', contents: 'x' })).text).toBe('echo: x');
  });
});
