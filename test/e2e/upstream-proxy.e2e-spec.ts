import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { KeyCheckResult, PoolKey } from '@gg/contracts';
import { startHttpProxy, startMockGemini, startSocks5Proxy, Stack, type MockGemini, type TestProxy } from '@gg/testing';
import { createUserKey, fakeGeminiKey, maskOf, poll, poolKeys } from './helpers';
import { gatewayInSync, gauge } from './pool-support';

jest.setTimeout(120_000);

const auth = { user: 'gg-proxy', password: `pw-${randomBytes(12).toString('hex')}` };

/** A proxy URL with the test's credentials at a port nothing listens on: every connection to it is refused. */
async function downProxyUrl(): Promise<string> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return `http://${auth.user}:${auth.password}@127.0.0.1:${port}`;
}

/**
 * A stack whose every app has UPSTREAM_PROXY, with two pool keys and a user key; every API answer the test reads is
 * kept, so that the proxy's password can be looked for in all of them and in every log line of the stack.
 */
class ProxiedStack {
  stack!: Stack;
  admin!: string;
  userKey!: string;
  readonly pool = [fakeGeminiKey(), fakeGeminiKey()];
  readonly answers: string[] = [];

  async start(mock: MockGemini, proxyUrl: string): Promise<void> {
    // debug: every log line an app may write, for expectNoPassword to search
    this.stack = await Stack.start({ geminiBaseUrl: mock.url, env: { UPSTREAM_PROXY: proxyUrl, LOG_LEVEL: 'debug' } });
    this.admin = await this.stack.login();
    expect((await this.api('POST', '/api/keys', { keys: this.pool })).status).toBe(201);
    this.userKey = (await createUserKey(this.stack, this.admin, 'proxy')).key;
    await gatewayInSync(this.stack, this.pool.length);
  }

  async api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const r = await this.stack.api<T>(this.admin, method, path, body);
    this.answers.push(JSON.stringify(r.body));
    return r;
  }

  async keys(): Promise<PoolKey[]> {
    const keys = await poolKeys(this.stack, this.admin);
    this.answers.push(JSON.stringify(keys));
    return keys;
  }

  async generate(text: string): Promise<{ status: number; body: string }> {
    const r = await fetch(`${this.stack.gatewayUrl}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: 'POST',
      headers: { 'x-goog-api-key': this.userKey, 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ parts: [{ text }] }] }),
    });
    const body = await r.text();
    this.answers.push(body);
    return { status: r.status, body };
  }

  /** POST /api/keys/:id/check of a pool key */
  async check(secret: string): Promise<KeyCheckResult> {
    const id = (await this.keys()).find((k) => k.masked === maskOf(secret))!.id;
    const r = await this.api<KeyCheckResult>('POST', `/api/keys/${id}/check`);
    expect(r.status).toBe(200);
    return r.body;
  }

  /** the proxy's password, raw, percent-encoded or in a Basic header, in no log line of the stack and no answer read */
  expectNoPassword(): void {
    const forms = [
      auth.password,
      encodeURIComponent(auth.password),
      Buffer.from(`${auth.user}:${auth.password}`).toString('base64'),
    ];
    for (const app of ['auth', 'key-pool', 'gateway', 'admin'] as const) {
      const log = this.stack.output(app);
      for (const f of forms) expect(log).not.toContain(f);
    }
    const answers = this.answers.join('\n');
    for (const f of forms) expect(answers).not.toContain(f);
  }
}

describe.each([
  ['http', startHttpProxy],
  ['socks5', startSocks5Proxy],
] as const)('UPSTREAM_PROXY of %s', (_scheme, start) => {
  let mock: MockGemini;
  let proxy: TestProxy;
  const s = new ProxiedStack();

  beforeAll(async () => {
    mock = await startMockGemini();
    proxy = await start({ auth });
    await s.start(mock, proxy.url);
  });

  afterAll(async () => {
    await s.stack?.stop();
    await proxy?.close();
    await mock?.close();
  });

  it('sends generateContent to the upstream through the proxy, with a pool key', async () => {
    const tunnelsBefore = proxy.tunnels;
    const from = mock.requests.length;
    const r = await s.generate('through the proxy');
    expect(r.status).toBe(200);
    const seen = mock.requests.slice(from);
    expect(seen).toHaveLength(1);
    expect(s.pool).toContain(seen[0].key);
    // the gateway's first upstream call: a tunnel of its own, to the mock and nowhere else
    expect(proxy.tunnels).toBe(tunnelsBefore + 1);
    expect(new Set(proxy.targets)).toEqual(new Set([new URL(mock.url).host]));
    expect(proxy.refused).toBe(0);
  });

  it("checks a pool key through the proxy (key-pool's health check)", async () => {
    const tunnelsBefore = proxy.tunnels;
    const from = mock.requests.length;
    const result = await s.check(s.pool[0]);
    expect(result.ok).toBe(true);
    // key-pool's first upstream call: a tunnel of its own
    expect(proxy.tunnels).toBe(tunnelsBefore + 1);
    expect(mock.requests.slice(from).map((q) => q.key)).toEqual([s.pool[0]]);
    s.expectNoPassword();
  });
});

describe('UPSTREAM_PROXY that is down', () => {
  let mock: MockGemini;
  const s = new ProxiedStack();
  let proxyUrl: string;

  beforeAll(async () => {
    mock = await startMockGemini();
    proxyUrl = await downProxyUrl();
    await s.start(mock, proxyUrl);
  });

  afterAll(async () => {
    await s.stack?.stop();
    await mock?.close();
  });

  it('answers 502 naming the proxy (masked), counts it, and leaves every pool key active with no failure', async () => {
    const metricsUrl = s.stack.metricsUrlOf('gateway');
    expect(await gauge(metricsUrl, 'gateway_upstream_proxy_failures_total')).toBe(0);
    const masked = `http://${auth.user}:***@${new URL(proxyUrl).host}`;
    // more requests than KEY_MAX_FAILURES (3): had they counted against the keys, a key would be resting by now; and
    // as many as a run of connection failures that replaces the gateway's pool (HEAL.failures): its warning names the
    // proxy, a log line for expectNoPassword to search
    for (let i = 0; i < 5; i++) {
      const r = await s.generate(`proxy down ${i}`);
      expect(r.status).toBe(502);
      const error = (JSON.parse(r.body) as { error: { status: string; message: string } }).error;
      expect(error.status).toBe('UNAVAILABLE');
      expect(error.message).toBe(`The upstream proxy ${masked} could not be reached.`);
    }
    expect(await gauge(metricsUrl, 'gateway_upstream_proxy_failures_total')).toBe(5);
    await poll(
      async () => s.stack.output('gateway'),
      (log) =>
        log.includes(`upstream connection pool to ${mock.url} via ${masked} replaced after 5 connection failures`),
      5_000,
      'the warning of the replaced pool',
    );

    // a health check through the down proxy says so, and tells nothing about the key either
    const check = await s.check(s.pool[0]);
    expect(check.ok).toBe(false);
    expect(check.error).toContain(masked);
    // nothing went around the proxy
    expect(mock.requests).toHaveLength(0);

    // no outcome of any key was reported: the gateway counts each one it sends to key-pool, and counted none
    const metrics = await fetch(`${metricsUrl}/metrics`).then((r) => r.text());
    expect(metrics).not.toMatch(/^gateway_upstream_attempts_total\{/m);
    // and the pool view: every key active, no failure (the check was applied, or not, before it answered)
    const keys = await s.keys();
    expect(keys.map((k) => [k.status, k.failureCount])).toEqual([
      ['active', 0],
      ['active', 0],
    ]);
    s.expectNoPassword();
  });
});
