import { randomBytes } from 'node:crypto';
import { GoogleGenAI, Modality, type LiveServerMessage } from '@google/genai';
import type { Page, RequestLog, UpstreamProxy } from '@gg/contracts';
import { startHttpProxy, startMockGemini, startSocks5Proxy, Stack, type MockGemini, type TestProxy } from '@gg/testing';
import { WebSocket } from 'ws';
import { createUserKey, fakeGeminiKey, poll, poolKeys } from './helpers';
import { gatewayInSync, gauge, keyOf } from './pool-support';

delete process.env.GOOGLE_GENAI_USE_VERTEXAI;
jest.setTimeout(60_000);

const MODEL = 'gemini-live-2.5-flash-preview';
const LIVE_PATH = '/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent';
const auth = { user: 'gg-live', password: `pw-${randomBytes(12).toString('hex')}` };
const wrongPassword = `bad-${randomBytes(8).toString('hex')}`;

/**
 * Live API sessions take the upstream proxies as every other upstream connection of a pool key: UPSTREAM_PROXY while
 * the list is empty, else the key's proxy of the list; a proxy that fails rests and the session goes through the next
 * one with the same key, no key blamed. Each session is matched to the proxy it came out of (the port the mock saw it
 * come from is one of that proxy's tunnels).
 */
describe('Live API sessions through the upstream proxies', () => {
  let mock: MockGemini;
  let stack: Stack;
  let admin: string;
  let userKey: string;
  /** UPSTREAM_PROXY */
  let fallback: TestProxy;
  let socks: TestProxy;
  /** listed with a wrong password: answers every CONNECT 407 */
  let wrong: TestProxy;
  const ids = new Map<TestProxy, string>();
  const pool = [fakeGeminiKey(), fakeGeminiKey()];

  async function addProxy(p: TestProxy, url = p.url): Promise<string> {
    const r = await stack.api<UpstreamProxy>(admin, 'POST', '/api/proxies', { url });
    expect(r.status).toBe(201);
    ids.set(p, r.body.id);
    return r.body.id;
  }

  /** the gateway's copy of the list has `n` proxies */
  async function gatewaySeesProxies(n: number): Promise<void> {
    const url = stack.metricsUrlOf('gateway');
    const count = async (): Promise<number> =>
      (await gauge(url, 'gateway_upstream_proxies{status="active"}')) +
      (await gauge(url, 'gateway_upstream_proxies{status="resting"}'));
    await poll(count, (c) => c === n, 3000, `the gateway to see ${n} proxies`);
  }

  /** A session with the SDK: setup, one turn and its answer, close. Returns the proxy the upstream saw it come from. */
  async function converse(text: string): Promise<TestProxy | undefined> {
    const from = mock.liveSessions.length;
    const ai = new GoogleGenAI({ apiKey: userKey, httpOptions: { baseUrl: stack.gatewayUrl } });
    let done!: () => void;
    const turnComplete = new Promise<void>((r) => (done = r));
    let reply = '';
    const session = await ai.live.connect({
      model: MODEL,
      config: { responseModalities: [Modality.TEXT] },
      callbacks: {
        onmessage: (m: LiveServerMessage) => {
          reply += m.serverContent?.modelTurn?.parts?.map((p) => p.text ?? '').join('') ?? '';
          if (m.serverContent?.turnComplete) done();
        },
      },
    });
    session.sendClientContent({ turns: text });
    await turnComplete;
    session.close();
    expect(reply).toBe(`echo: ${text}`);
    const seen = mock.liveSessions.slice(from);
    expect(seen).toHaveLength(1);
    expect(pool).toContain(seen[0].key);
    return [fallback, socks, wrong].find((p) => p.ports.includes(seen[0].remotePort));
  }

  async function expectNoKeyBlamed(): Promise<void> {
    const keys = await poolKeys(stack, admin);
    for (const secret of pool) expect(keyOf(keys, secret)).toMatchObject({ status: 'active', failureCount: 0 });
  }

  beforeAll(async () => {
    [mock, fallback, socks, wrong] = await Promise.all([
      startMockGemini(),
      startHttpProxy({ auth }),
      startSocks5Proxy({ auth }),
      startHttpProxy({ auth }),
    ]);
    // debug: every log line the gateway may write, for the passwords to be looked for in all of them
    stack = await Stack.start({ geminiBaseUrl: mock.url, env: { UPSTREAM_PROXY: fallback.url, LOG_LEVEL: 'debug' } });
    admin = await stack.login();
    expect((await stack.api(admin, 'POST', '/api/keys', { keys: pool })).status).toBe(201);
    userKey = (await createUserKey(stack, admin, 'live-proxies')).key;
    await gatewayInSync(stack, pool.length);
  });

  afterAll(async () => {
    await stack?.stop();
    await Promise.all([mock, fallback, socks, wrong].map((x) => x?.close()));
  });

  it('goes through UPSTREAM_PROXY (HTTP CONNECT with credentials) while the proxy list is empty', async () => {
    expect(await converse('via the upstream proxy')).toBe(fallback);
    expect([fallback.tunnels, fallback.refused, fallback.targets]).toEqual([1, 0, [new URL(mock.url).host]]);
  });

  it("goes through the key's proxy of the list (SOCKS5 with credentials), not UPSTREAM_PROXY", async () => {
    await addProxy(socks);
    await gatewaySeesProxies(1);
    expect(await converse('via the list')).toBe(socks);
    expect([socks.tunnels, socks.refused, fallback.tunnels]).toEqual([1, 0, 1]);
  });

  it('rests a proxy that answers 407 and sets the session up through the next one, no key blamed', async () => {
    const id = await addProxy(wrong, wrong.url.replace(encodeURIComponent(auth.password), wrongPassword));
    // both keys bound to it: whichever key the session gets goes to it first
    const keys = await poolKeys(stack, admin);
    for (const secret of pool) {
      const r = await stack.api(admin, 'PATCH', `/api/keys/${keyOf(keys, secret).id}`, { proxyId: id });
      expect(r.status).toBe(200);
    }
    await gatewaySeesProxies(2);

    expect(await converse('past a failing proxy')).toBe(socks);
    expect([wrong.refused, wrong.tunnels, socks.tunnels]).toEqual([1, 0, 2]);
    const rested = await poll(
      async () => (await stack.api<UpstreamProxy[]>(admin, 'GET', '/api/proxies')).body.find((p) => p.id === id)!,
      (p) => p.status === 'resting',
      3000,
      'the proxy answering 407 to rest',
    );
    expect(rested.lastError).toBe('HTTP 407');
    expect(await gauge(stack.metricsUrlOf('gateway'), `gateway_proxy_failures_total{proxy="${id}"}`)).toBe(1);
    await expectNoKeyBlamed();
  });

  it('closes the session with 1011 naming the proxy (masked) when every proxy fails, no key blamed', async () => {
    await socks.close();
    const sessions = mock.liveSessions.length;
    const ws = new WebSocket(`${stack.gatewayUrl.replace(/^http/, 'ws')}${LIVE_PATH}?key=${userKey}`);
    const closed = new Promise<{ code: number; reason: string }>((r) =>
      ws.on('close', (code, reason: Buffer) => r({ code, reason: reason.toString() })),
    );
    ws.on('open', () => ws.send(JSON.stringify({ setup: { model: `models/${MODEL}` } })));
    const masked = `http://${auth.user}:***@127.0.0.1:${new URL(wrong.url).port}`;
    // socks (refused now) first, then the resting one, used all the same as none is left: 407 again
    expect(await closed).toEqual({ code: 1011, reason: `The upstream proxy ${masked} could not be reached.` });
    expect(mock.liveSessions).toHaveLength(sessions);
    expect([wrong.refused, fallback.tunnels]).toEqual([2, 1]);
    expect(await gauge(stack.metricsUrlOf('gateway'), 'gateway_upstream_proxy_failures_total')).toBe(1);
    await expectNoKeyBlamed();

    const logged = await poll(
      async () => (await stack.api<Page<RequestLog>>(admin, 'GET', '/api/logs?limit=10')).body.items,
      (items) => items.some((l) => l.status === 502),
      5000,
      'the refused session in the request log',
    );
    expect(logged.find((l) => l.status === 502)).toMatchObject({ method: 'bidiGenerateContent', attempts: 1 });
    const forms = [
      auth.password,
      wrongPassword,
      encodeURIComponent(auth.password),
      Buffer.from(`${auth.user}:${auth.password}`).toString('base64'),
      Buffer.from(`${auth.user}:${wrongPassword}`).toString('base64'),
    ];
    for (const f of forms) expect(stack.output('gateway')).not.toContain(f);
    expect(JSON.stringify(logged)).not.toContain(auth.password);
  });
});
