import { GoogleGenAI } from '@google/genai';
import { startMockGemini, Stack, type MockGemini } from '@gg/testing';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createUserKey, fakeGeminiKey, maskOf, poll, poolKeys } from './helpers';

delete process.env.GOOGLE_GENAI_USE_VERTEXAI;
jest.setTimeout(90_000);

interface Line {
  log: string;
  app: string;
  requestId: string;
  [field: string]: unknown;
}

/** Every transaction line of `app` written so far (TRANSACTION_LOG=file): `${DATA_DIR}/transactions/<app>.log`. */
function linesOf(stack: Stack, app: string): Line[] {
  const path = join(stack.dataDir, 'transactions', `${app}.log`);
  if (!existsSync(path)) return [];
  // the part after the last newline is a line still being written (or nothing): left for the next read
  const lines = readFileSync(path, 'utf8').split('\n').slice(0, -1);
  return lines.map((l) => JSON.parse(l) as Line);
}

/** The line of one request id, once it was written (lines are buffered: the writer flushes within a second). */
const lineOf = (stack: Stack, app: string, requestId: string): Promise<Line> =>
  poll(
    () => linesOf(stack, app).find((l) => l.requestId === requestId),
    (l) => l !== undefined,
    10_000,
    `${app} transaction line of ${requestId}`,
  ) as Promise<Line>;

describe('transaction log (TRANSACTION_LOG=file)', () => {
  let mock: MockGemini;
  let stack: Stack;
  let token: string;
  let secret: string;
  let ai: GoogleGenAI;
  let idOf: (key: string) => string;
  const pool = [fakeGeminiKey(), fakeGeminiKey()];

  beforeAll(async () => {
    mock = await startMockGemini();
    // a key that fails with 503 is not rested during this test: the failover is seen on every request that tries it
    stack = await Stack.start({
      geminiBaseUrl: mock.url,
      env: { TRANSACTION_LOG: 'file', KEY_MAX_FAILURES: '1000', KEY_SELECTION: 'round-robin' },
    });
    token = await stack.login();
    expect((await stack.api(token, 'POST', '/api/keys', { keys: pool })).status).toBe(201);
    const ks = await poolKeys(stack, token);
    idOf = (key) => ks.find((k) => k.masked === maskOf(key))!.id;
    const k = await createUserKey(stack, token, 'tx');
    secret = k.key;
    ai = new GoogleGenAI({ apiKey: secret, httpOptions: { baseUrl: stack.gatewayUrl } });
    await stack.gatewayReady();
  });

  afterAll(async () => {
    await stack?.stop();
    await mock?.close();
  });

  beforeEach(() => mock.reset());

  it('a generateContent through the SDK: one line with the ids, the route, the attempt, the tokens, the x-request-id', async () => {
    const r = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'hello there' });
    const requestId = r.sdkHttpResponse?.headers?.['x-request-id'];
    expect(requestId).toBeTruthy();
    const line = await lineOf(stack, 'gateway', requestId!);
    const used = idOf(mock.requests[0].key!);
    expect(line).toMatchObject({
      log: 'transaction',
      app: 'gateway',
      route: 'generateContent',
      method: 'generateContent',
      model: 'gemini-2.5-flash',
      stream: false,
      status: 200,
      poolKeyId: used,
      attempts: [{ keyId: used, outcome: 'success', status: 200 }],
      promptTokens: r.usageMetadata?.promptTokenCount,
      outputTokens: r.usageMetadata?.candidatesTokenCount,
    });
    expect(line.userId).toEqual(expect.any(String));
    expect(line.authKeyId).toEqual(expect.any(String));
    expect(typeof line.client).toBe('string');
    expect(new Date(line.time as string).toISOString()).toBe(line.time);
    expect(line.durationMs).toEqual(expect.any(Number));
    expect(line).not.toHaveProperty('error');
  });

  it('a failover: the line lists both attempts, the 503 on the failing key then the success on the other', async () => {
    const [bad, good] = pool;
    mock.script({ type: 'error', status: 503, key: bad, times: Infinity });
    // round-robin: within two requests one tries the failing key first
    let line: Line | undefined;
    for (let i = 0; i < 4 && !line; i++) {
      const r = await fetch(`${stack.gatewayUrl}/v1beta/models/gemini-2.5-flash:generateContent`, {
        method: 'POST',
        headers: { 'x-goog-api-key': secret, 'content-type': 'application/json' },
        body: JSON.stringify({ contents: [{ parts: [{ text: `failover ${i}` }] }] }),
      });
      expect(r.status).toBe(200);
      await r.arrayBuffer();
      const l = await lineOf(stack, 'gateway', r.headers.get('x-request-id')!);
      if ((l.attempts as unknown[]).length === 2) line = l;
    }
    expect(line).toMatchObject({
      status: 200,
      poolKeyId: idOf(good),
      attempts: [
        { keyId: idOf(bad), outcome: 'transient', status: 503 },
        { keyId: idOf(good), outcome: 'success', status: 200 },
      ],
    });
  });

  it('requests refused before authentication get their line, without user fields', async () => {
    const r = await fetch(`${stack.gatewayUrl}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: 'POST',
      headers: { 'x-goog-api-key': `gg-${'x'.repeat(40)}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(r.status).toBe(401);
    await r.arrayBuffer();
    const line = await lineOf(stack, 'gateway', r.headers.get('x-request-id')!);
    expect(line).toMatchObject({ status: 401, route: 'generateContent', poolKeyId: null, attempts: [] });
    expect(line).not.toHaveProperty('userId');
    expect(line).not.toHaveProperty('authKeyId');
    expect(String(line.error)).toMatch(/^refused: /);
    // a path no route serves is refused before any key is read: a line too
    const other = await fetch(`${stack.gatewayUrl}/nothing-here`);
    expect(other.status).toBe(404);
    await other.arrayBuffer();
    const otherLine = await lineOf(stack, 'gateway', other.headers.get('x-request-id')!);
    expect(otherLine).toMatchObject({ status: 404, route: 'other', error: 'refused: no route' });
  });

  it('an admin API call: one line in admin.log with the request id, the user, the route pattern', async () => {
    const r = await fetch(`${stack.adminUrl}/api/keys`, { headers: { authorization: `Bearer ${token}` } });
    expect(r.status).toBe(200);
    await r.arrayBuffer();
    const line = await lineOf(stack, 'admin', r.headers.get('x-request-id')!);
    expect(line).toMatchObject({ log: 'transaction', app: 'admin', method: 'GET', route: '/api/keys', status: 200 });
    expect(line.userId).toEqual(expect.any(String));
    expect(line.durationMs).toEqual(expect.any(Number));
  });

  it('no secret in any line: no pool key, user key, password or access token', async () => {
    // the login above is an admin call too (its body holds the password): its line is there, without it
    await poll(
      () => linesOf(stack, 'admin').some((l) => l.route === '/api/auth/login'),
      (found) => found,
      10_000,
      'the login line',
    );
    const files = readdirSync(join(stack.dataDir, 'transactions'));
    expect(files.sort()).toEqual(['admin.log', 'gateway.log']);
    const text = files.map((f) => readFileSync(join(stack.dataDir, 'transactions', f), 'utf8')).join('');
    for (const s of [...pool, secret, stack.adminPassword, token]) expect(text).not.toContain(s);
    expect(text).not.toMatch(/AIza[0-9A-Za-z_-]{20,}|gg1?-[0-9A-Za-z_-]{20,}/);
  });
});

describe('transaction log (TRANSACTION_LOG=off)', () => {
  let stack: Stack;
  let mock: MockGemini;

  beforeAll(async () => {
    mock = await startMockGemini();
    stack = await Stack.start({ geminiBaseUrl: mock.url, env: { TRANSACTION_LOG: 'off' } });
  });

  afterAll(async () => {
    await stack?.stop();
    await mock?.close();
  });

  it('writes nothing', async () => {
    const token = await stack.login();
    expect((await stack.api(token, 'GET', '/api/keys')).status).toBe(200);
    const r = await fetch(`${stack.gatewayUrl}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: 'POST',
      headers: { 'x-goog-api-key': `gg-${'x'.repeat(40)}` },
      body: '{}',
    });
    expect(r.status).toBe(401);
    // a fixed wait, as nothing is to be polled for: past the writer's 1 s flush period, a line would be on disk
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(existsSync(join(stack.dataDir, 'transactions'))).toBe(false);
  });
});
