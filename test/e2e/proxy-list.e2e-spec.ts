import { randomBytes } from 'node:crypto';
import type { AuditEntry, Page, PoolKey, UpstreamProxy } from '@gg/contracts';
import { startHttpProxy, startMockGemini, startSocks5Proxy, Stack, type MockGemini, type TestProxy } from '@gg/testing';
import { createUserKey, fakeGeminiKey, poll, poolKeys } from './helpers';
import { gatewayInSync, gauge, keyOf, sendUntilSeen } from './pool-support';

jest.setTimeout(60_000);

const auth = { user: 'gg-list', password: `pw-${randomBytes(12).toString('hex')}` };
const masked = (p: TestProxy): string => p.url.replace(`:${encodeURIComponent(auth.password)}@`, ':***@');

/**
 * The proxy list on one stack (no UPSTREAM_PROXY): an HTTP and a SOCKS5 proxy added through the admin API, each with
 * credentials; every upstream request is matched to the proxy it came out of (the port the mock saw it come from is
 * one of that proxy's tunnels) and compared with the proxy its key's view names.
 */
describe('upstream proxy list', () => {
  let mock: MockGemini;
  let stack: Stack;
  let admin: string;
  let userKey: string;
  let http: TestProxy;
  let socks: TestProxy;
  let third: TestProxy;
  /** demands other credentials than the ones its URL in the list carries: answers every CONNECT 407 */
  let wrong: TestProxy;
  const wrongPassword = `bad-${randomBytes(8).toString('hex')}`;
  const ids = new Map<TestProxy, string>();
  const pool = [fakeGeminiKey(), fakeGeminiKey(), fakeGeminiKey(), fakeGeminiKey()];
  const answers: string[] = [];

  async function api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const r = await stack.api<T>(admin, method, path, body);
    answers.push(JSON.stringify(r.body));
    return r;
  }

  async function keys(): Promise<PoolKey[]> {
    const k = await poolKeys(stack, admin);
    answers.push(JSON.stringify(k));
    return k;
  }

  async function addProxy(p: TestProxy): Promise<UpstreamProxy> {
    const r = await api<UpstreamProxy>('POST', '/api/proxies', { url: p.url });
    expect(r.status).toBe(201);
    ids.set(p, r.body.id);
    return r.body;
  }

  function generate(): Promise<Response> {
    return fetch(`${stack.gatewayUrl}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: 'POST',
      headers: { 'x-goog-api-key': userKey, 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ parts: [{ text: 'via a proxy' }] }] }),
    });
  }

  /** the gateway's copy of the list has `active` proxies not resting and `resting` resting */
  async function gatewaySeesProxies(active: number, resting = 0): Promise<void> {
    const url = stack.metricsUrlOf('gateway');
    await poll(
      async () => [
        await gauge(url, 'gateway_upstream_proxies{status="active"}'),
        await gauge(url, 'gateway_upstream_proxies{status="resting"}'),
      ],
      ([a, r]) => a === active && r === resting,
      3000,
      `the gateway to see ${active} active and ${resting} resting proxies`,
    );
  }

  /** Sends until every pool key was used; each request came out of the proxy its key's view names. */
  async function expectExitsAsViewed(): Promise<Map<string, string>> {
    const view = await keys();
    const from = mock.requests.length;
    const statuses = await sendUntilSeen(mock, pool, generate);
    expect(new Set(statuses)).toEqual(new Set([200]));
    const exits = new Map<string, string>();
    for (const r of mock.requests.slice(from)) {
      const proxy = [...ids].find(([p]) => p.ports.includes(r.remotePort));
      expect(proxy).toBeDefined();
      const key = keyOf(view, r.key);
      expect([key.masked, proxy![1]]).toEqual([key.masked, key.proxy?.id]);
      exits.set(key.id, proxy![1]);
    }
    return exits;
  }

  beforeAll(async () => {
    [mock, http, socks, third, wrong] = await Promise.all([
      startMockGemini(),
      startHttpProxy({ auth }),
      startSocks5Proxy({ auth }),
      startHttpProxy({ auth }),
      startHttpProxy({ auth }),
    ]);
    // debug: every log line an app may write, for the password to be looked for in all of them
    stack = await Stack.start({ geminiBaseUrl: mock.url, env: { LOG_LEVEL: 'debug' } });
    admin = await stack.login();
    expect((await api('POST', '/api/keys', { keys: pool })).status).toBe(201);
    userKey = (await createUserKey(stack, admin, 'proxies')).key;
    await gatewayInSync(stack, pool.length);
  });

  afterAll(async () => {
    await stack?.stop();
    await Promise.all([mock, http, socks, third, wrong].map((x) => x?.close()));
  });

  it('refuses a URL that is no proxy, without echoing it', async () => {
    const r = await api<{ message: unknown }>('POST', '/api/proxies', { url: `ftp://u:${auth.password}@127.0.0.1:21` });
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.body)).toContain('url must use http:, https:, socks5:');
  });

  it('sends each key through its proxy: an HTTP and a SOCKS5 one, explicitly bound or by hashing', async () => {
    const added = await addProxy(http);
    expect(added).toMatchObject({ url: masked(http), status: 'active', restingUntil: null, lastError: null });
    await addProxy(socks);
    // one key bound to each proxy, so that both kinds carry traffic whatever the hashing does with the others
    const before = await keys();
    const [k0, k1] = [keyOf(before, pool[0]), keyOf(before, pool[1])];
    const bound = await api<PoolKey>('PATCH', `/api/keys/${k0.id}`, { proxyId: ids.get(http) });
    expect(bound.status).toBe(200);
    expect(bound.body.proxy).toEqual({ id: ids.get(http), url: masked(http), binding: 'explicit' });
    expect((await api('PATCH', `/api/keys/${k1.id}`, { proxyId: ids.get(socks) })).status).toBe(200);
    expect((await api('PATCH', `/api/keys/${k1.id}`, { proxyId: 'no-such-proxy' })).status).toBe(400);
    for (const k of await keys()) expect(k.proxy?.binding).toBe(k.id === k0.id || k.id === k1.id ? 'explicit' : 'hash');
    await gatewaySeesProxies(2);

    const exits = await expectExitsAsViewed();
    expect(exits.get(k0.id)).toBe(ids.get(http));
    expect(exits.get(k1.id)).toBe(ids.get(socks));
    expect(new Set(http.targets.concat(socks.targets))).toEqual(new Set([new URL(mock.url).host]));
    expect(http.refused + socks.refused).toBe(0);
  });

  it('keeps every key on its proxy when a third is added, but those the hashing gives to the new one', async () => {
    const before = new Map((await keys()).map((k) => [k.id, k.proxy?.id]));
    await addProxy(third);
    const after = await keys();
    for (const k of after) {
      if (k.proxy?.binding === 'explicit') expect(k.proxy.id).toBe(before.get(k.id));
      else expect([before.get(k.id), ids.get(third)]).toContain(k.proxy?.id);
    }
    await gatewaySeesProxies(3);
    await expectExitsAsViewed();

    const list = (await api<UpstreamProxy[]>('GET', '/api/proxies')).body;
    expect(list.map((p) => p.id)).toEqual([ids.get(http), ids.get(socks), ids.get(third)]);
    expect(list.reduce((n, p) => n + p.keyCount, 0)).toBe(pool.length);
    expect(list.find((p) => p.id === ids.get(http))?.boundKeys).toBe(1);
  });

  it('rests a proxy that fails; its keys go through the others, neither disabled nor blamed', async () => {
    const failing = (await keys()).filter((k) => k.proxy?.id === ids.get(http));
    expect(failing.length).toBeGreaterThan(0);
    await http.close();
    const from = mock.requests.length;
    // every answer is the upstream's: the attempt through the dead proxy went again through the key's next one
    const statuses = await sendUntilSeen(mock, pool, generate);
    expect(new Set(statuses)).toEqual(new Set([200]));
    for (const r of mock.requests.slice(from)) expect(http.ports).not.toContain(r.remotePort);

    const rested = await poll(
      async () => (await api<UpstreamProxy[]>('GET', '/api/proxies')).body.find((p) => p.id === ids.get(http))!,
      (p) => p.status === 'resting',
      3000,
      'the failing proxy to rest',
    );
    expect(Date.parse(rested.restingUntil!) - Date.now()).toBeGreaterThan(20_000);
    expect(rested.lastError).toBe('ECONNREFUSED');
    expect(rested.keyCount).toBe(0);
    const after = await keys();
    for (const k of after) {
      expect([k.status, k.failureCount]).toEqual(['active', 0]);
      expect(k.proxy?.id).not.toBe(ids.get(http));
    }
    // the explicitly bound key goes back to its proxy when the rest ends: the binding is kept
    expect(keyOf(after, pool[0]).proxy).toMatchObject({ binding: 'hash', boundTo: ids.get(http) });
    await gatewaySeesProxies(2, 1);
    await expectExitsAsViewed();
    expect(await gauge(stack.metricsUrlOf('key-pool'), `gg_pool_proxy_resting{proxy="${ids.get(http)}"}`)).toBe(1);
  });

  it('rests a proxy that answers 407, a key bound to it served through another', async () => {
    const url = wrong.url.replace(`:${encodeURIComponent(auth.password)}@`, `:${wrongPassword}@`);
    const r = await api<UpstreamProxy>('POST', '/api/proxies', { url });
    expect(r.status).toBe(201);
    const k2 = keyOf(await keys(), pool[2]);
    expect((await api('PATCH', `/api/keys/${k2.id}`, { proxyId: r.body.id })).status).toBe(200);
    await gatewaySeesProxies(3, 1);
    const statuses = await sendUntilSeen(mock, pool[2], generate);
    expect(new Set(statuses)).toEqual(new Set([200]));
    expect(wrong.refused).toBeGreaterThan(0);
    const rested = await poll(
      async () => (await api<UpstreamProxy[]>('GET', '/api/proxies')).body.find((p) => p.id === r.body.id)!,
      (p) => p.status === 'resting',
      3000,
      'the proxy answering 407 to rest',
    );
    expect(rested.lastError).toBe('HTTP 407');
    expect(keyOf(await keys(), pool[2])).toMatchObject({ status: 'active', failureCount: 0 });
    expect((await api('DELETE', `/api/proxies/${r.body.id}`)).status).toBe(204);
  });

  it('deletes a proxy, unbinding its keys; audits every action, never with a secret', async () => {
    expect((await api('DELETE', `/api/proxies/${ids.get(http)}`)).status).toBe(204);
    expect((await api('DELETE', `/api/proxies/${ids.get(http)}`)).status).toBe(404);
    ids.delete(http);
    expect(keyOf(await keys(), pool[0]).proxy?.binding).toBe('hash');
    await gatewaySeesProxies(2);

    const audit = (await api<Page<AuditEntry>>('GET', '/api/audit?limit=50')).body.items;
    const actions = audit.map((e) => e.action);
    expect(actions.filter((a) => a === 'proxy.add')).toHaveLength(4);
    expect(actions.filter((a) => a === 'pool-key.bind')).toHaveLength(3);
    // the newest deletion: the proxy that rested first
    expect(audit.find((e) => e.action === 'proxy.delete')).toMatchObject({
      targetType: 'proxy',
      targetName: masked(http),
      changes: { boundKeys: 1 },
    });
    expect(audit.find((e) => e.action === 'proxy.add')?.targetName).toMatch(/^(http|socks5):\/\/gg-list:\*\*\*@/);

    const forms = [
      auth.password,
      wrongPassword,
      encodeURIComponent(auth.password),
      Buffer.from(`${auth.user}:${auth.password}`).toString('base64'),
    ];
    const seen = answers.join('\n');
    for (const f of forms) expect(seen).not.toContain(f);
    for (const app of ['auth', 'key-pool', 'gateway', 'admin'] as const) {
      for (const f of forms) expect(stack.output(app)).not.toContain(f);
    }
  });
});
