import { GoogleGenAI, Modality, type LiveServerMessage, type Session } from '@google/genai';
import type { AddPoolKeysResult, Page, PoolKey, RequestLog } from '@gg/contracts';
import { startMockGemini, Stack, type MockGemini } from '@gg/testing';
import { request as httpRequest } from 'node:http';
import { WebSocket } from 'ws';
import { createKey } from './accounts-helpers';
import { createUserKey, fakeGeminiKey, maskOf, poll, poolKeys, userKey } from './helpers';

delete process.env.GOOGLE_GENAI_USE_VERTEXAI;
jest.setTimeout(90_000);

const MODEL = 'gemini-live-2.5-flash-preview';
const LIVE_PATH = '/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent';

interface Closed {
  code: number;
  reason: string;
  at: number;
}

interface Live {
  messages: LiveServerMessage[];
  /** the first message (received or to come) that satisfies `ok` */
  until(ok: (m: LiveServerMessage) => boolean): Promise<LiveServerMessage>;
  closed: Promise<Closed>;
  errors: string[];
  /** resolves when `ai.live.connect` does (only once setupComplete arrived) */
  session: Promise<Session>;
}

/** `ai.live.connect` through the gateway with every message, error and the close collected. */
function connect(baseUrl: string, apiKey: string, config: Record<string, unknown> = {}, model = MODEL): Live {
  const ai = new GoogleGenAI({ apiKey, httpOptions: { baseUrl } });
  const messages: LiveServerMessage[] = [];
  const errors: string[] = [];
  const waiters: { ok: (m: LiveServerMessage) => boolean; resolve: (m: LiveServerMessage) => void }[] = [];
  let onClose!: (c: Closed) => void;
  const closed = new Promise<Closed>((r) => (onClose = r));
  const session = ai.live.connect({
    model,
    config: { responseModalities: [Modality.TEXT], ...config },
    callbacks: {
      onmessage: (m) => {
        messages.push(m);
        for (const w of waiters.splice(0)) {
          if (w.ok(m)) w.resolve(m);
          else waiters.push(w);
        }
      },
      onerror: (e) => errors.push(String((e as { message?: string }).message ?? e)),
      onclose: (e) => onClose({ code: e.code, reason: e.reason, at: Date.now() }),
    },
  });
  const until = (ok: (m: LiveServerMessage) => boolean): Promise<LiveServerMessage> => {
    const seen = messages.find(ok);
    return seen ? Promise.resolve(seen) : new Promise((resolve) => waiters.push({ ok, resolve }));
  };
  return { messages, until, closed, errors, session };
}

const textOf = (ms: LiveServerMessage[]): string =>
  ms.map((m) => m.serverContent?.modelTurn?.parts?.map((p) => p.text ?? '').join('') ?? '').join('');

/** A raw WebSocket handshake: the HTTP refusal (status, body), or the socket once open. */
function handshake(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string } | { ws: WebSocket }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.on('open', () => resolve({ ws }));
    ws.on('error', reject);
  });
}

describe('Live API relay (BidiGenerateContent over WebSocket)', () => {
  let mock: MockGemini;
  let stack: Stack;
  let admin: string;
  let secret: string;
  let keyId: string;
  const pool = [fakeGeminiKey(), fakeGeminiKey(), fakeGeminiKey()];
  const wsUrl = (): string => stack.gatewayUrl.replace(/^http/, 'ws');
  const inUse = async (): Promise<number> =>
    (await poolKeys(stack, admin)).reduce((n, k: PoolKey) => n + (k.isInUse ? k.inUse : 0), 0);

  beforeAll(async () => {
    mock = await startMockGemini();
    // a short deadline: the shutdown test waits for it (sessions run until the drain deadline)
    stack = await Stack.start({ geminiBaseUrl: mock.url, env: { REQUEST_TIMEOUT_SECONDS: '4' } });
    admin = await stack.login();
    const added = await stack.api<AddPoolKeysResult>(admin, 'POST', '/api/keys', { keys: pool });
    expect(added.status).toBe(201);
    const k = await createUserKey(stack, admin, 'live');
    secret = k.key;
    keyId = k.id;
    await stack.gatewayReady();
  });

  afterAll(async () => {
    await stack?.stop();
    await mock?.close();
  });

  beforeEach(() => mock.reset());

  it('relays a text session: setup, a turn answered in several messages, a pool key in use, counted once', async () => {
    const live = connect(stack.gatewayUrl, secret);
    const session = await live.session;
    expect(live.messages[0].setupComplete).toEqual({});
    // the session holds its pool key for as long as it is open
    await poll(inUse, (n) => n === 1, 10_000, 'a pool key shown in use');
    session.sendClientContent({ turns: [{ role: 'user', parts: [{ text: 'hello live gateway' }] }] });
    await live.until((m) => m.usageMetadata !== undefined);
    expect(live.messages.filter((m) => m.serverContent?.modelTurn).length).toBeGreaterThanOrEqual(2);
    expect(textOf(live.messages)).toBe('echo: hello live gateway');
    expect(live.messages.some((m) => m.serverContent?.turnComplete)).toBe(true);
    session.sendClientContent({ turns: 'and again' });
    await live.until((m) => textOf([m]).includes('again'));
    await live.until((m) => m.usageMetadata?.promptTokenCount === 9);
    session.close();
    await live.closed;
    await poll(inUse, (n) => n === 0, 10_000, 'the pool key released');

    // the upstream saw one session, with a pool key only, and the client's messages as it sent them
    expect(mock.liveSessions).toHaveLength(1);
    const up = mock.liveSessions[0];
    expect(pool).toContain(up.key);
    expect(JSON.stringify(up.headers)).not.toContain(secret);
    expect(up.model).toBe(`models/${MODEL}`);
    expect(up.messages.map((m) => Object.keys(m as object)[0])).toEqual(['setup', 'clientContent', 'clientContent']);
    // tokens (the mock counts words) of both turns: 3 in, 4 out; then the whole history, 9 in, and 3 out
    const counted = await poll(
      () => userKey(stack, admin, keyId),
      (k) => (k?.callCount ?? 0) >= 1,
      10_000,
      'the session counted',
    );
    expect(counted).toMatchObject({ callCount: 1, promptTokens: 12, outputTokens: 7 });
    const logs = await stack.api<Page<RequestLog>>(admin, 'GET', `/api/logs?authKeyId=${keyId}`);
    expect(logs.body.items).toHaveLength(1);
    expect(logs.body.items[0]).toMatchObject({
      method: 'bidiGenerateContent',
      model: MODEL,
      stream: true,
      status: 101,
      attempts: 1,
    });
    expect(logs.body.items[0].error).toBeUndefined();
  });

  it('relays a tool call and its response', async () => {
    const tools = [{ functionDeclarations: [{ name: 'get_weather', description: 'the weather in a city' }] }];
    const live = connect(stack.gatewayUrl, secret, { tools });
    const session = await live.session;
    session.sendClientContent({ turns: 'call get_weather {"city":"Paris"}' });
    const call = (await live.until((m) => m.toolCall !== undefined)).toolCall!.functionCalls![0];
    expect(call).toMatchObject({ name: 'get_weather', args: { city: 'Paris' } });
    session.sendToolResponse({ functionResponses: [{ id: call.id, name: call.name, response: { celsius: 21 } }] });
    await live.until((m) => m.serverContent?.turnComplete === true);
    expect(textOf(live.messages)).toBe('tool get_weather said: {"celsius":21}');
    session.close();
    await live.closed;
    expect(mock.liveSessions[0].messages.map((m) => Object.keys(m as object)[0])).toEqual([
      'setup',
      'clientContent',
      'toolResponse',
    ]);
  });

  it("relays the upstream's goAway and its close", async () => {
    mock.script({ type: 'goAway', timeLeft: '0.3s', method: 'bidiGenerateContent' });
    const live = connect(stack.gatewayUrl, secret);
    await live.session;
    expect((await live.until((m) => m.goAway !== undefined)).goAway?.timeLeft).toBe('0.3s');
    expect(await live.closed).toMatchObject({ code: 1000 });
  });

  it('accepts the key in x-goog-api-key and the SDK path with a doubled slash', async () => {
    const r = await handshake(`${wsUrl()}/${LIVE_PATH}`, { 'x-goog-api-key': secret });
    if (!('ws' in r)) throw new Error(`refused: ${r.status} ${r.body}`);
    const first = new Promise<string>((resolve) => r.ws.once('message', (d: Buffer) => resolve(d.toString())));
    r.ws.send(JSON.stringify({ setup: { model: `models/${MODEL}` } }));
    expect(JSON.parse(await first)).toEqual({ setupComplete: {} });
    r.ws.close();
    expect(pool).toContain(mock.liveSessions[0].key);
  });

  it('serves a request that asks for another upgrade (h2c, as curl --http2 sends) as a plain request', async () => {
    const body = JSON.stringify({ contents: [{ parts: [{ text: 'plain after all' }] }] });
    const answer = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const q = httpRequest(
        `${stack.gatewayUrl}/v1beta/models/gemini-2.5-flash:generateContent`,
        {
          method: 'POST',
          headers: {
            connection: 'Upgrade, HTTP2-Settings',
            upgrade: 'h2c',
            'http2-settings': 'AAMAAABkAARAAAAAAAIAAAAA',
            'x-goog-api-key': secret,
            'content-type': 'application/json',
          },
        },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString('utf8')));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      q.on('error', reject);
      q.end(body);
    });
    expect(answer.status).toBe(200);
    expect(answer.text).toContain('echo: plain after all');
    expect(mock.requests[0].headers['upgrade']).toBeUndefined();
  });

  it('refuses a bad user key before the upgrade, with 401 in Google shape; the upstream sees nothing', async () => {
    const r = await handshake(`${wsUrl()}${LIVE_PATH}?key=gg-not-a-real-key`);
    expect(r).toMatchObject({ status: 401 });
    const body = JSON.parse((r as { body: string }).body);
    expect(body.error).toMatchObject({ code: 401, status: 'UNAUTHENTICATED' });
    const none = await handshake(`${wsUrl()}${LIVE_PATH}`);
    expect(none).toMatchObject({ status: 401 });
    // the SDK reports it as an error and an abnormal close
    const live = connect(stack.gatewayUrl, 'gg-not-a-real-key');
    expect((await live.closed).code).toBe(1006);
    expect(live.errors.join(' ')).toMatch(/401/);
    // ephemeral tokens are refused with a clear answer
    const constrained = await handshake(
      `${wsUrl()}${LIVE_PATH.replace('BidiGenerateContent', 'BidiGenerateContentConstrained')}?access_token=auth_tokens/x`,
    );
    expect(constrained).toMatchObject({ status: 403 });
    expect(mock.liveSessions).toHaveLength(0);
  });

  it('closes with 1008 a session whose model the key may not use; an allowed model is served', async () => {
    const k = await createKey(stack, admin, { name: 'live-models', allowedModels: ['gemini-live-2.5-*'] });
    const refused = connect(stack.gatewayUrl, k.key, {}, 'gemini-2.5-pro');
    const closed = await refused.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toMatch(/may not use the model gemini-2\.5-pro/);
    expect(mock.liveSessions).toHaveLength(0);
    const allowed = connect(stack.gatewayUrl, k.key);
    (await allowed.session).close();
    await allowed.closed;
    expect(mock.liveSessions).toHaveLength(1);
  });

  it("closes a deactivated key's open session within 1 s with 1008", async () => {
    const k = await createUserKey(stack, admin, 'live-deactivate');
    const live = connect(stack.gatewayUrl, k.key);
    await live.session;
    const patched = await stack.api(admin, 'PATCH', `/api/auth-keys/${k.id}`, { isActive: false });
    expect(patched.status).toBe(200);
    const t0 = Date.now();
    const closed = await live.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toMatch(/deactivated/);
    expect(closed.at - t0).toBeLessThan(1000);
    await poll(inUse, (n) => n === 0, 10_000, 'the pool key released');
  });

  it('tries the next pool key when one is refused at the handshake or closed as invalid before setupComplete', async () => {
    // the first two upstream handshakes fail, whichever keys they use: a 429, then Google's invalid-key close
    mock.script({ type: 'rateLimit', retryDelay: '30s', method: 'bidiGenerateContent' });
    mock.script({
      type: 'liveClose',
      code: 1007,
      reason: 'API key not valid. Please pass a valid API key.',
      method: 'bidiGenerateContent',
    });
    const k = await createUserKey(stack, admin, 'live-retry');
    const live = connect(stack.gatewayUrl, k.key);
    const session = await live.session;
    session.sendClientContent({ turns: 'served at last' });
    await live.until((m) => m.serverContent?.turnComplete === true);
    expect(textOf(live.messages)).toBe('echo: served at last');
    session.close();
    await live.closed;
    const keys = mock.liveSessions.map((s) => s.key);
    expect(new Set(keys).size).toBe(3);
    expect(keys.every((x) => pool.includes(x))).toBe(true);
    const [limited, invalid] = keys;
    const view = await poll(
      () => poolKeys(stack, admin),
      (ks) =>
        ks.find((x) => x.masked === maskOf(invalid))?.status === 'disabled' &&
        /429/.test(ks.find((x) => x.masked === maskOf(limited))?.lastError ?? ''),
      10_000,
      'the refusals reported to the pool',
    );
    expect(view.find((x) => x.masked === maskOf(limited))?.status).not.toBe('disabled');
    const logs = await poll(
      () => stack.api<Page<RequestLog>>(admin, 'GET', `/api/logs?authKeyId=${k.id}`).then((r) => r.body.items),
      (items) => items.length === 1,
      10_000,
      'the session logged',
    );
    expect(logs[0]).toMatchObject({ status: 101, attempts: 3 });
  });

  it('on SIGTERM lets an open session run until the drain deadline, then closes it with 1001 and counts it', async () => {
    const k = await createUserKey(stack, admin, 'live-shutdown');
    const live = connect(stack.gatewayUrl, k.key);
    await live.session;
    const t0 = Date.now();
    const exited = stack.signal('gateway', 'SIGTERM', 0, 30_000);
    const closed = await live.closed;
    expect(closed.code).toBe(1001);
    // REQUEST_TIMEOUT_SECONDS=4: the session was not cut at once
    expect(closed.at - t0).toBeGreaterThanOrEqual(3_500);
    expect([0, null]).toContain(await exited);
    await poll(
      () => userKey(stack, admin, k.id),
      (x) => x?.callCount === 1,
      10_000,
      'the drained session counted',
    );
  });
});
