import type { AddPoolKeysResult, AuthKey, ServiceLogLine } from '@gg/contracts';
import { startMockGemini, Stack, type MockGemini, type AppName } from '@gg/testing';
import { createUserKey, fakeGeminiKey, poll } from './helpers';

jest.setTimeout(60_000);

/** What an operator sees: /metrics on every app, the service logs, the OpenAPI document. */
describe('operations: metrics, service logs, API docs', () => {
  let mock: MockGemini;
  let stack: Stack;
  let token: string;
  let secret: string;
  let keyId: string;
  const pool = [fakeGeminiKey(), fakeGeminiKey()];

  beforeAll(async () => {
    mock = await startMockGemini();
    stack = await Stack.start({ geminiBaseUrl: mock.url, env: { LOG_LEVEL: 'info' } });
    token = await stack.login();
    expect((await stack.api<AddPoolKeysResult>(token, 'POST', '/api/keys', { keys: pool })).status).toBe(201);
    const k = await createUserKey(stack, token, 'ops');
    secret = k.key;
    keyId = k.id;
    await stack.gatewayReady();
    const r = await fetch(`${stack.gatewayUrl}/v1beta/models/gemini-2.5-flash:generateContent?key=${secret}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ parts: [{ text: 'hi' }] }] }),
    });
    expect(r.status).toBe(200);
  });

  afterAll(async () => {
    await stack?.stop();
    await mock?.close();
  });

  const metrics = (app: AppName) => fetch(`${stack.metricsUrlOf(app)}/metrics`).then((r) => r.text());

  it('counts admin requests by route pattern and status, never by raw URL', async () => {
    expect((await stack.api<AuthKey>(token, 'PATCH', `/api/auth-keys/${keyId}`, { name: 'ops-renamed' })).status).toBe(
      200,
    );
    expect((await stack.api(token, 'GET', '/api/nothing-here')).status).toBe(404);
    const text = await metrics('admin');
    expect(text).toMatch(/http_requests_total\{method="POST",route="\/api\/auth\/login",status="200"\} [1-9]/);
    expect(text).toMatch(/http_requests_total\{method="PATCH",route="\/api\/auth-keys\/:id",status="200"\} 1/);
    expect(text).toMatch(
      /http_request_duration_seconds_bucket\{le="[^"]+",method="PATCH",route="\/api\/auth-keys\/:id",status="200"\}/,
    );
    // an unknown path is counted under a pattern (a catch-all route, or "unmatched"), never under its URL
    expect(text).toMatch(/http_requests_total\{method="GET",route="[^"]+",status="404"\} 1/);
    expect(text).not.toContain('nothing-here');
    expect(text).not.toContain(keyId);
  });

  it('shows queue depths, pool states and the gateway figures, with no secret in any label', async () => {
    const [auth, keyPool, gateway, admin] = await Promise.all(
      (['auth', 'key-pool', 'gateway', 'admin'] as AppName[]).map(metrics),
    );
    expect(auth).toMatch(/gg_queue_jobs\{queue="usage",state="waiting"\} \d+/);
    expect(auth).toMatch(/rpc_messages_total\{pattern="auth\.[a-z.]+",outcome="ok"\} [1-9]/);
    expect(keyPool).toMatch(/gg_queue_jobs\{queue="pool-health",state="delayed"\} \d+/);
    expect(keyPool).toMatch(/gg_pool_keys\{status="active"\} 2/);
    expect(gateway).toMatch(/gateway_overhead_seconds_count [1-9]/);
    expect(gateway).toMatch(/gateway_upstream_attempts_total\{outcome="[a-z_]+"\} [1-9]/);
    for (const text of [auth, keyPool, gateway, admin]) {
      for (const s of [secret, ...pool, token, stack.adminPassword]) expect(text).not.toContain(s);
    }
  });

  it('serves every app’s log lines to admins, filtered by app and level, with secrets redacted', async () => {
    const recent = (query: string, t = token) =>
      stack.api<{ items: ServiceLogLine[] }>(t, 'GET', `/api/service-logs${query}`);
    const all = await poll(
      () => recent('?limit=1000'),
      (r) => new Set(r.body.items.map((l) => l.app)).size === 4,
      10_000,
      'lines of all four apps',
    );
    expect(all.status).toBe(200);
    for (const l of all.body.items)
      expect(l).toMatchObject({
        id: expect.any(String),
        app: expect.any(String),
        level: expect.any(String),
        time: expect.any(String),
      });
    const auth = await recent('?app=auth&limit=5');
    expect(auth.body.items.length).toBeGreaterThan(0);
    expect(auth.body.items.every((l) => l.app === 'auth')).toBe(true);
    const warn = await recent('?level=warn');
    expect(warn.body.items.every((l) => ['warn', 'error', 'fatal'].includes(l.level))).toBe(true);
    const text = JSON.stringify(all.body);
    for (const s of [secret, ...pool, token, stack.adminPassword]) expect(text).not.toContain(s);
    expect((await recent('?level=loud')).status).toBe(400);

    // a user may not read them
    expect(
      (await stack.api(token, 'POST', '/api/users', { username: 'ops-user', password: 'ops-user-pw', role: 'user' }))
        .status,
    ).toBe(201);
    const userToken = await stack.login('ops-user', 'ops-user-pw');
    expect((await recent('', userToken)).status).toBe(403);
    // nor open their live stream: no ticket for it, and a token in the URL is never taken
    expect((await stack.api(userToken, 'POST', '/api/streams/ticket', { stream: 'service-logs' })).status).toBe(403);
    expect((await fetch(`${stack.adminUrl}/api/service-logs/stream?access_token=${userToken}`)).status).toBe(401);
  });

  it('streams new lines live over SSE, opened with a single-use ticket (EventSource)', async () => {
    const issued = await stack.api<{ ticket: string }>(token, 'POST', '/api/streams/ticket', {
      stream: 'service-logs',
    });
    expect(issued.status).toBe(200);
    const ctrl = new AbortController();
    const res = await fetch(
      `${stack.adminUrl}/api/service-logs/stream?app=admin&level=warn&ticket=${issued.body.ticket}`,
      { signal: ctrl.signal },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = res.body!.getReader();
    let text = '';
    try {
      // a failed login is logged by admin at warn level
      // generous: on a loaded machine the line travels app -> Redis stream -> admin -> SSE
      const deadline = Date.now() + 20_000;
      let tries = 0;
      while (!/data: \{.*"app":"admin".*"level":"warn"/.test(text)) {
        if (Date.now() > deadline) throw new Error(`no live line; got: ${text}`);
        if (tries++ < 40) await fetch(`${stack.adminUrl}/api/auth/me`);
        const chunk = await Promise.race([reader.read(), new Promise<null>((r) => setTimeout(() => r(null), 500))]);
        if (chunk && !chunk.done) text += new TextDecoder().decode(chunk.value);
      }
      expect(text).not.toContain(token);
      expect(text).not.toContain(issued.body.ticket);
    } finally {
      ctrl.abort();
    }
  });

  it('publishes the OpenAPI document of the admin API at /api/docs, to admins', async () => {
    const bearer = { authorization: `Bearer ${token}` };
    expect((await fetch(`${stack.adminUrl}/api/docs-json`)).status).toBe(401);
    const doc = (await (await fetch(`${stack.adminUrl}/api/docs-json`, { headers: bearer })).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
      components: { securitySchemes: Record<string, { scheme: string }> };
    };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/auth/login', '/api/auth-keys', '/api/keys', '/api/service-logs']),
    );
    expect(Object.values(doc.components.securitySchemes).map((s) => s.scheme)).toContain('bearer');
    const ui = await fetch(`${stack.adminUrl}/api/docs`, { headers: bearer });
    expect(ui.status).toBe(200);
    expect(await ui.text()).toMatch(/swagger/i);
  });
});
