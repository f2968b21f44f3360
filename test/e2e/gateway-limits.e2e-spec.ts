import { GoogleGenAI } from '@google/genai';
import OpenAI, { APIError } from 'openai';
import type { AddPoolKeysResult, Page, RequestLog } from '@gg/contracts';
import { startMockGemini, Stack, type MockGemini } from '@gg/testing';
import { Agent, request, type ClientRequest, type IncomingMessage } from 'node:http';
import { createUserKey, fakeGeminiKey, poll, poolKeys } from './helpers';

delete process.env.GOOGLE_GENAI_USE_VERTEXAI;
jest.setTimeout(90_000);

const MB = 1024 * 1024;

interface Raw {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
  /** a 100 Continue reached the client */
  continued: boolean;
}

/**
 * A raw request: `body` is sent whole (or only after 100 Continue when `expect` is set); `chunked` sends it
 * without a Content-Length; `declared` announces a length without sending the body (the request is left open).
 */
function raw(
  base: string,
  path: string,
  o: {
    key?: string;
    body?: Buffer;
    declared?: number;
    expect?: boolean;
    chunked?: boolean;
    headers?: Record<string, string>;
  },
): { done: Promise<Raw>; req: ClientRequest } {
  const u = new URL(base);
  const headers: Record<string, string> = { 'content-type': 'application/json', ...o.headers };
  if (o.key) headers['x-goog-api-key'] = o.key;
  if (o.expect) headers['expect'] = '100-continue';
  if (o.declared !== undefined) headers['content-length'] = String(o.declared);
  else if (o.body && !o.chunked) headers['content-length'] = String(o.body.length);
  let continued = false;
  // keep-alive, as SDKs send: a body refused before it was read is then read and dropped by the gateway, so a
  // client still sending gets the answer (with `Connection: close` it may see a reset first)
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const req = request({ host: u.hostname, port: u.port, method: 'POST', path, headers, agent });
  const done = new Promise<Raw>((resolve, reject) => {
    req.on('continue', () => {
      continued = true;
      if (o.body) req.end(o.body);
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        agent.destroy();
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
          continued,
        });
      });
      res.on('error', reject);
    });
    req.on('error', (e) => {
      agent.destroy();
      reject(e);
    });
  });
  if (o.chunked && o.body) {
    // several writes, no Content-Length: Transfer-Encoding: chunked
    for (let i = 0; i < o.body.length; i += 256 * 1024) req.write(o.body.subarray(i, i + 256 * 1024));
    req.end();
  } else if (o.declared !== undefined) {
    req.flushHeaders();
  } else if (!o.expect) req.end(o.body);
  else req.flushHeaders();
  return { done, req };
}

const generatePath = '/v1beta/models/gemini-2.5-flash:generateContent';
const jsonOf = (bytes: number): Buffer => {
  const head = '{"contents":[{"parts":[{"text":"';
  const tail = '"}]}]}';
  return Buffer.from(head + 'a'.repeat(Math.max(0, bytes - head.length - tail.length)) + tail);
};

/** Issue 11 §4 and §6: bounded request bodies and answers, 100-continue after auth, no throw kills the replica. */
describe('gateway limits', () => {
  let mock: MockGemini;
  let stack: Stack;
  let secret: string;
  let ai: GoogleGenAI;
  let openai: OpenAI;
  let gw: string;

  beforeAll(async () => {
    mock = await startMockGemini();
    stack = await Stack.start({
      geminiBaseUrl: mock.url,
      env: {
        MAX_REQUEST_BODY_MB: '2',
        MAX_OPENAI_BODY_MB: '1',
        MAX_UPLOAD_BODY_MB: '8',
        BODY_MEMORY_BUDGET_MB: '4',
        MAX_ANSWER_BODY_MB: '1',
        KEY_MAX_CONCURRENCY: '1',
      },
    });
    const token = await stack.login();
    const added = await stack.api<AddPoolKeysResult>(token, 'POST', '/api/keys', {
      keys: [fakeGeminiKey(), fakeGeminiKey(), fakeGeminiKey()],
    });
    expect(added.status).toBe(201);
    secret = (await createUserKey(stack, token, 'limits')).key;
    gw = stack.gatewayUrl;
    ai = new GoogleGenAI({ apiKey: secret, httpOptions: { baseUrl: gw } });
    openai = new OpenAI({ apiKey: secret, baseURL: `${gw}/v1`, maxRetries: 0 });
    await poll(
      () => raw(gw, generatePath, { key: secret, body: jsonOf(100) }).done.then((r) => r.status),
      (s) => s === 200,
      15_000,
      'the gateway to serve',
    );
  });

  afterAll(async () => {
    await stack?.stop();
    await mock?.close();
  });

  beforeEach(() => mock.reset());

  it('refuses a body over the route limit with 413 in the route shape, announced or chunked, and nothing goes upstream', async () => {
    const sdk = await ai.models
      .generateContent({ model: 'gemini-2.5-flash', contents: 'x'.repeat(3 * MB) })
      .catch((e: { status?: number; message?: string }) => e);
    expect((sdk as { status?: number }).status).toBe(413);
    const chunked = await raw(gw, generatePath, { key: secret, body: jsonOf(3 * MB), chunked: true }).done;
    expect(chunked.status).toBe(413);
    expect(JSON.parse(chunked.body).error.status).toBe('INVALID_ARGUMENT');
    // the OpenAI route has its own (smaller) limit and OpenAI's error shape
    const big = 'y'.repeat(1.5 * MB);
    const oa = await openai.chat.completions
      .create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: big }] })
      .catch((e: APIError) => e);
    expect(oa).toBeInstanceOf(APIError);
    expect((oa as APIError).status).toBe(413);
    expect((oa as APIError).code).toBe('request_too_large');
    expect(mock.requests).toHaveLength(0);
    // a body within the limit passes
    expect((await raw(gw, generatePath, { key: secret, body: jsonOf(1.5 * MB) }).done).status).toBe(200);
  });

  it('past the gateway-wide body budget answers 503 with Retry-After (each route its shape), and frees it when bodies go', async () => {
    // two requests announce 2 MB each and send nothing more: the 4 MB budget is held
    const held = [
      raw(gw, generatePath, { key: secret, declared: 2 * MB }),
      raw(gw, generatePath, { key: secret, declared: 2 * MB }),
    ];
    for (const h of held) h.done.catch(() => undefined);
    const refused = await poll(
      () => raw(gw, generatePath, { key: secret, body: jsonOf(64 * 1024) }).done,
      (r) => r.status === 503,
      5000,
      'the budget to be full',
    );
    expect(refused.headers['retry-after']).toBe('1');
    expect(JSON.parse(refused.body).error).toMatchObject({ code: 503, status: 'UNAVAILABLE' });
    const oa = await openai.chat.completions
      .create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: APIError) => e);
    expect((oa as APIError).status).toBe(503);
    expect((oa as APIError).error).toMatchObject({ type: 'server_error' });
    // the clients holding the budget go away: it is given back
    for (const h of held) h.req.destroy();
    await poll(
      () => raw(gw, generatePath, { key: secret, body: jsonOf(64 * 1024) }).done.then((r) => r.status),
      (s) => s === 200,
      5000,
      'the budget to be freed',
    );
  });

  it('answers Expect: 100-continue only once the key passed; a bad key or a too-large body is refused before the body', async () => {
    const bad = await raw(gw, generatePath, { key: secret.slice(0, -2) + 'zz', body: jsonOf(1000), expect: true }).done;
    expect(bad.status).toBe(401);
    expect(bad.continued).toBe(false);
    const tooBig = await raw(gw, generatePath, { key: secret, body: jsonOf(3 * MB), expect: true }).done;
    expect(tooBig.status).toBe(413);
    expect(tooBig.continued).toBe(false);
    const ok = await raw(gw, generatePath, { key: secret, body: jsonOf(1000), expect: true }).done;
    expect(ok.continued).toBe(true);
    expect(ok.status).toBe(200);
    expect(mock.requests).toHaveLength(1);
  });

  it('streams uploads to their key without the buffered limit, within the upload limit', async () => {
    // 6 MB: three times the native route's limit, under the upload limit (8 MB)
    const bytes = Buffer.alloc(6 * MB, 'z');
    const file = await ai.files.upload({
      file: new Blob([bytes]),
      config: { mimeType: 'text/plain', displayName: 'big.txt' },
    });
    expect(file.name).toMatch(/^files\//);
    expect(Number(file.sizeBytes)).toBe(bytes.length);
    const chunks = mock.requests.filter((r) => r.apiMethod === 'upload');
    expect(chunks.length).toBeGreaterThanOrEqual(2);
    expect(new Set(chunks.map((r) => r.key)).size).toBe(1);
    // a single upload request over the upload limit: 413 before a byte goes upstream
    mock.clearRequests();
    const over = await raw(gw, '/upload/v1beta/files', {
      key: secret,
      body: Buffer.alloc(9 * MB, 'z'),
      headers: { 'x-goog-upload-protocol': 'raw', 'content-type': 'text/plain' },
    }).done;
    expect(over.status).toBe(413);
    expect(mock.requests).toHaveLength(0);
  });

  it('caps the unary upstream answer the OpenAI route reads: 502 past MAX_ANSWER_BODY_MB', async () => {
    const text = 'w'.repeat(1.5 * MB);
    mock.script({
      type: 'raw',
      body: JSON.stringify({ candidates: [{ content: { role: 'model', parts: [{ text }] }, finishReason: 'STOP' }] }),
      headers: { 'content-type': 'application/json' },
      method: 'generateContent',
    });
    const e = await openai.chat.completions
      .create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'hi' }] })
      .catch((x: APIError) => x);
    expect((e as APIError).status).toBe(502);
    const fine = await openai.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(fine.choices[0].message.content).toContain('hi');
  });

  it('an upstream chunk the translator cannot read ends that answer with the error chunk; nothing escapes, the key is freed and not blamed, the replica and its open stream serve on', async () => {
    const token = await stack.login();
    const failuresBefore = (await poolKeys(stack, token)).reduce((n, k) => n + k.failureCount, 0);
    // an open stream on the same replica, holding one of the three keys (KEY_MAX_CONCURRENCY=1)
    mock.script({
      type: 'stream',
      chunks: ['one ', 'two ', 'three ', 'four'],
      intervalMs: 400,
      method: 'streamGenerateContent',
      model: 'gemini-2.5-pro',
    });
    const open = (async () => {
      let text = '';
      for await (const c of await ai.models.generateContentStream({ model: 'gemini-2.5-pro', contents: 'count' }))
        text += c.text ?? '';
      return text;
    })();
    await poll(
      async () => mock.requests.length,
      (n) => n >= 1,
      5000,
      'the stream to start',
    );
    // a streamed OpenAI answer with a chunk the translator throws on, after the headers went out
    mock.script({
      type: 'raw',
      body: 'data: {"candidates":[{"content":{"role":"model","parts":[{"text":"Hi"}]}}]}\r\n\r\ndata: {"candidates":[null]}\r\n\r\n',
      headers: { 'content-type': 'text/event-stream' },
      method: 'streamGenerateContent',
      model: 'gemini-2.5-flash',
    });
    let seen = '';
    const broken = await (async () => {
      const s = await openai.chat.completions.create({
        model: 'gemini-2.5-flash',
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
      });
      for await (const chunk of s) seen += chunk.choices[0]?.delta?.content ?? '';
      return null;
    })().catch((e: unknown) => e);
    // OpenAI's mid-stream error chunk, which the SDK throws on, after what was translated
    expect(broken).toBeInstanceOf(APIError);
    expect(broken).toMatchObject({
      message: 'The upstream answer could not be read.',
      type: 'server_error',
      code: 'unavailable',
    });
    expect(seen).toBe('Hi');
    // the other two keys are free again: two requests at once, each on its own key, while the stream holds the third
    mock.script({ type: 'delay', firstByteMs: 300, method: 'generateContent', times: 2 });
    const both = await Promise.all([1, 2].map(() => raw(gw, generatePath, { key: secret, body: jsonOf(100) }).done));
    expect(both.map((r) => r.status)).toEqual([200, 200]);
    expect(await open).toBe('one two three four');
    expect(stack.procs.find((p) => p.name === 'gateway')?.child.exitCode).toBeNull();
    // handled by the request's own chain: nothing reached the process-level handler (its own test: escaped-errors.spec)
    const metrics = await fetch(`${stack.metricsUrlOf('gateway')}/metrics`).then((r) => r.text());
    expect(metrics).toContain('# TYPE gateway_escaped_errors_total counter');
    expect(metrics).not.toMatch(/^gateway_escaped_errors_total\{[^}]*\} [1-9]/m);
    // a failure of the request (its log row keeps why), not of the key: the upstream answered
    const logs = await poll(
      () => stack.api<Page<RequestLog>>(token, 'GET', '/api/logs').then((r) => r.body.items),
      (items) => items.some((l) => /could not be translated/.test(l.error ?? '')),
      5000,
      'the failed stream in the request log',
    );
    expect(logs.find((l) => /could not be translated/.test(l.error ?? ''))).toMatchObject({
      status: 200,
      method: 'chat.completions',
      model: 'gemini-2.5-flash',
    });
    expect((await poolKeys(stack, token)).reduce((n, k) => n + k.failureCount, 0)).toBe(failuresBefore);
  });
});
