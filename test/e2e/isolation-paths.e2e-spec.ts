import { GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';
import { request as httpRequest } from 'node:http';
import type { AuthKeyWithSecret, Page, RequestLog } from '@gg/contracts';
import { startMockGemini, Stack, type MockGemini } from '@gg/testing';
import { createKey } from './accounts-helpers';
import { fakeGeminiKey, poll } from './helpers';

delete process.env.GOOGLE_GENAI_USE_VERTEXAI;
jest.setTimeout(60_000);

const PUBLIC_BASE_URL = 'https://gemini.example.test/gw';

interface Answer {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * Issue 11, points 1 and 7, as a hostile user tries them: a key limited to gemini-2.5-flash (and the embedding
 * model) reaching another model through the path, the body or Google's OpenAI layer; client headers reaching
 * Google. Raw requests go through node:http, which (unlike fetch) sends a path exactly as written.
 */
describe('one request model for every route: paths, model allow-lists, client headers', () => {
  let mock: MockGemini;
  let stack: Stack;
  let admin: string;
  let limited: AuthKeyWithSecret;
  let ai: GoogleGenAI;

  beforeAll(async () => {
    mock = await startMockGemini();
    stack = await Stack.start({ geminiBaseUrl: mock.url, env: { PUBLIC_BASE_URL } });
    admin = await stack.login();
    const added = await stack.api(admin, 'POST', '/api/keys', { keys: [fakeGeminiKey(), fakeGeminiKey()] });
    expect(added.status).toBe(201);
    limited = await createKey(stack, admin, {
      name: 'flash-only',
      allowedModels: ['gemini-2.5-flash', 'gemini-embedding-001'],
    });
    ai = new GoogleGenAI({ apiKey: limited.key, httpOptions: { baseUrl: stack.gatewayUrl } });
    await stack.gatewayReady();
  });

  afterAll(async () => {
    await stack?.stop();
    await mock?.close();
  });

  beforeEach(() => mock.reset());

  function raw(
    path: string,
    opts: { method?: string; key?: string | null; headers?: Record<string, string>; body?: unknown } = {},
  ): Promise<Answer> {
    const url = new URL(stack.gatewayUrl);
    const headers: Record<string, string> = { 'content-type': 'application/json', ...opts.headers };
    const key = opts.key === undefined ? limited.key : opts.key;
    if (key) headers['x-goog-api-key'] = key;
    const body = opts.body === undefined ? '' : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        { host: url.hostname, port: url.port, path, method: opts.method ?? 'POST', headers },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  const generateBody = { contents: [{ role: 'user', parts: [{ text: 'hello' }] }] };
  const errorOf = (a: Answer): { code: number; status: string; message: string } =>
    (JSON.parse(a.body) as { error: { code: number; status: string; message: string } }).error;

  it('refuses dot-segments, encoded slashes and backslashes with 400 INVALID_ARGUMENT, before authentication', async () => {
    const paths = [
      '/v1beta/models/gemini-2.5-flash/../gemini-2.5-pro:generateContent',
      '/v1beta/models/gemini-2.5-flash/%2e%2e/gemini-2.5-pro:generateContent',
      '/v1beta/models/gemini-2.5-flash/%2E%2E/gemini-2.5-pro:generateContent',
      '/v1beta/models/gemini-2.5-flash/.%2e/gemini-2.5-pro:generateContent',
      '/v1beta/models/gemini-2.5-flash%2F..%2Fgemini-2.5-pro:generateContent',
      '/v1beta/models/gemini-2.5-flash%2f%2e%2e%2fgemini-2.5-pro:generateContent',
      '/v1beta/models/gemini-2.5-flash\\..\\gemini-2.5-pro:generateContent',
      '/v1beta/models/gemini-2.5-flash%5C..%5Cgemini-2.5-pro:generateContent',
      '/v1beta/models/./gemini-2.5-pro:generateContent',
      '/v1beta/models/gemini-2.5-flash//gemini-2.5-pro:generateContent',
      '/v1/chat/../../v1beta/models/gemini-2.5-pro:generateContent',
    ];
    for (const path of paths) {
      for (const key of [limited.key, null]) {
        const a = await raw(path, { key, body: generateBody });
        expect({ path, status: a.status }).toEqual({ path, status: 400 });
        expect(errorOf(a)).toMatchObject({ code: 400, status: 'INVALID_ARGUMENT' });
      }
    }
    expect(mock.requests).toHaveLength(0);
  });

  it('folds leading doubled slashes and serves the allowed model, through the SDK too', async () => {
    const a = await raw('//v1beta/models/gemini-2.5-flash:generateContent', { body: generateBody });
    expect(a.status).toBe(200);
    expect(mock.requests.map((r) => r.path)).toEqual(['/v1beta/models/gemini-2.5-flash:generateContent']);
    const r = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'still fine' });
    expect(r.text).toContain('still fine');
    await expect(ai.models.generateContent({ model: 'gemini-2.5-pro', contents: 'no' })).rejects.toMatchObject({
      status: 403,
    });
  });

  it("refuses another model in the body of Google's OpenAI layer (official OpenAI SDK), serves the allowed one", async () => {
    const client = new OpenAI({ apiKey: limited.key, baseURL: `${stack.gatewayUrl}/v1beta/openai/`, maxRetries: 0 });
    await expect(
      client.chat.completions.create({ model: 'gemini-2.5-pro', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toMatchObject({ status: 403 });
    await expect(
      client.chat.completions.create({ model: 'models/gemini-2.5-pro', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toMatchObject({
      status: 403,
    });
    // a model that cannot be determined is refused to a key with a list (fail closed)
    const noModel = await raw('/v1beta/openai/chat/completions', {
      body: { messages: [{ role: 'user', content: 'x' }] },
    });
    expect(noModel.status).toBe(403);
    const twice = await raw('/v1beta/openai/chat/completions', {
      body: '{"model":"gemini-2.5-flash","messages":[],"model":"gemini-2.5-pro"}',
    });
    expect(twice.status).toBe(403);
    expect(mock.requests).toHaveLength(0);
    const ok = await client.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: 'allowed here' }],
    });
    expect(ok.choices[0].message.content).toBe('echo: allowed here');
    expect(mock.requests.map((r) => r.path)).toEqual(['/v1beta/openai/chat/completions']);
  });

  it('checks every model of a batchEmbedContents and the inner request of countTokens', async () => {
    const emb = await ai.models.embedContent({ model: 'gemini-embedding-001', contents: ['a text', 'another'] });
    expect(emb.embeddings).toHaveLength(2);
    mock.clearRequests();
    const mixed = {
      requests: [
        { model: 'models/gemini-embedding-001', content: { parts: [{ text: 'a' }] } },
        { model: 'models/gemini-2.5-pro', content: { parts: [{ text: 'b' }] } },
      ],
    };
    const a = await raw('/v1beta/models/gemini-embedding-001:batchEmbedContents', { body: mixed });
    expect(a.status).toBe(403);
    expect(errorOf(a)).toMatchObject({ status: 'PERMISSION_DENIED' });
    expect(errorOf(a).message).toContain('gemini-2.5-pro');
    const snake = await raw('/v1beta/models/gemini-2.5-flash:countTokens', {
      body: { generate_content_request: { model: 'models/gemini-2.5-pro', ...generateBody } },
    });
    expect(snake.status).toBe(403);
    const gzipped = await raw('/v1beta/models/gemini-embedding-001:batchEmbedContents', {
      body: mixed,
      headers: { 'content-encoding': 'gzip' },
    });
    expect(gzipped.status).toBe(403); // a body the gateway cannot read names an unknown model
    expect(mock.requests).toHaveLength(0);
    const count = await ai.models.countTokens({ model: 'gemini-2.5-flash', contents: 'four words right here' });
    expect(count.totalTokens).toBeGreaterThan(0);
  });

  it('checks the model of cachedContents, batches and tuned models creation; routes that run no model stay open', async () => {
    await expect(
      ai.caches.create({ model: 'gemini-2.5-pro', config: { contents: 'cache this text' } }),
    ).rejects.toMatchObject({ status: 403 });
    await expect(
      ai.batches.create({ model: 'gemini-2.5-pro', src: [{ contents: [{ role: 'user', parts: [{ text: 'x' }] }] }] }),
    ).rejects.toMatchObject({ status: 403 });
    const tuned = await raw('/v1beta/tunedModels', { body: { base_model: 'models/gemini-2.5-pro', displayName: 't' } });
    expect(tuned.status).toBe(403);
    const token = await raw('/v1beta/authTokens', { body: { uses: 1 } });
    expect(token.status).toBe(403); // ephemeral tokens are refused to every key (next test)
    expect(mock.requests).toHaveLength(0);
    const cache = await ai.caches.create({ model: 'gemini-2.5-flash', config: { contents: 'cache this text' } });
    expect(cache.model).toBe('models/gemini-2.5-flash');
    const list = await raw('/v1beta/models', { method: 'GET' });
    expect(list.status).toBe(200);
    const files = await raw('/v1beta/files', { method: 'GET' });
    expect(files.status).toBe(200);
    expect((await raw(`/v1beta/${cache.name}`, { method: 'GET' })).status).toBe(200);
  });

  it("issues no Live API ephemeral token, to any key: 403 in Google's shape, nothing upstream, the refusal logged", async () => {
    const open = await createKey(stack, admin, { name: 'no-list' });
    const sdk = new GoogleGenAI({
      apiKey: open.key,
      httpOptions: { baseUrl: stack.gatewayUrl, apiVersion: 'v1alpha' },
    });
    const refused = await sdk.authTokens
      .create({ config: { uses: 1 } })
      .catch((e: { status?: number; message?: string }) => e);
    expect(refused).toMatchObject({ status: 403 });
    const message = 'Ephemeral tokens are not issued through this gateway: they would reach Google outside it.';
    expect((refused as { message: string }).message).toContain(message);
    for (const path of ['/v1alpha/auth_tokens', '/v1beta/authTokens', '/v1/auth_tokens']) {
      const a = await raw(path, { key: open.key, body: { uses: 1 } });
      expect(a.status).toBe(403);
      expect(errorOf(a)).toEqual({ code: 403, status: 'PERMISSION_DENIED', message });
    }
    expect(mock.requests).toHaveLength(0);
    // the key still works, and the refusals are in its request log
    expect(
      (await raw('/v1beta/models/gemini-2.5-pro:generateContent', { key: open.key, body: generateBody })).status,
    ).toBe(200);
    const logs = await poll(
      () => stack.api<Page<RequestLog>>(admin, 'GET', `/api/logs?authKeyId=${open.id}`).then((r) => r.body.items),
      (items) => items.length >= 5,
      5000,
      'request log',
    );
    expect(logs.filter((l) => l.status === 403 && /ephemeral tokens/.test(l.error ?? ''))).toHaveLength(4);
  });

  it('logs the model that was asked for, found in the body too', async () => {
    const k = await createKey(stack, admin, { name: 'logged', allowedModels: ['gemini-2.5-flash'] });
    const client = new OpenAI({ apiKey: k.key, baseURL: `${stack.gatewayUrl}/v1beta/openai/`, maxRetries: 0 });
    await client.chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'x' }] });
    await client.chat.completions
      .create({ model: 'gemini-2.5-pro', messages: [{ role: 'user', content: 'x' }] })
      .catch(() => undefined);
    const cache = await raw('/v1beta/cachedContents', {
      key: k.key,
      body: { model: 'models/gemini-2.5-pro', contents: [{ parts: [{ text: 'x' }] }] },
    });
    expect(cache.status).toBe(403);
    const logs = await poll(
      () => stack.api<Page<RequestLog>>(admin, 'GET', `/api/logs?authKeyId=${k.id}`).then((r) => r.body.items),
      (items) => items.length >= 3,
      5000,
      'request log',
    );
    const seen = logs.map((l) => [l.status, l.model]).sort((a, b) => String(a).localeCompare(String(b)));
    expect(seen).toEqual([
      [200, 'gemini-2.5-flash'],
      [403, 'gemini-2.5-pro'],
      [403, 'gemini-2.5-pro'],
    ]);
  });

  it("drops the headers Connection names, the client's hops, origin and referer before Google", async () => {
    const a = await raw('/v1beta/models/gemini-2.5-flash:generateContent', {
      body: generateBody,
      headers: {
        connection: 'x-hop-secret',
        'x-hop-secret': 'internal',
        forwarded: 'for=10.1.2.3',
        'x-forwarded-for': '10.1.2.3',
        'x-forwarded-host': 'internal.example',
        'x-real-ip': '10.1.2.3',
        via: '1.1 corp-proxy',
        origin: 'https://intranet.example',
        referer: 'https://intranet.example/secret-page',
        'x-goog-api-client': 'test-client',
      },
    });
    expect(a.status).toBe(200);
    const seen = mock.requests[0].headers;
    for (const h of [
      'x-hop-secret',
      'forwarded',
      'x-forwarded-for',
      'x-forwarded-host',
      'x-real-ip',
      'via',
      'origin',
      'referer',
    ]) {
      expect({ header: h, value: seen[h] }).toEqual({ header: h, value: undefined });
    }
    expect(seen['x-goog-api-client']).toBe('test-client');
  });

  it('points the resumable upload URL at PUBLIC_BASE_URL', async () => {
    const a = await raw('/upload/v1beta/files', {
      headers: {
        'x-goog-upload-protocol': 'resumable',
        'x-goog-upload-command': 'start',
        'x-forwarded-host': 'evil.example',
      },
      body: { file: { displayName: 'f' } },
    });
    expect(a.status).toBe(200);
    const url = String(a.headers['x-goog-upload-url']);
    expect(url.startsWith(`${PUBLIC_BASE_URL}/upload/v1beta/files?`)).toBe(true);
    expect(url).toContain('upload_id=');
    expect(url).not.toContain('key=');
  });
});
