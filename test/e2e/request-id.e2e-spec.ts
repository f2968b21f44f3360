import type { RequestLog, ServiceLogLine } from '@gg/contracts';
import { startMockGemini, Stack, type MockGemini } from '@gg/testing';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createUserKey, fakeGeminiKey, poll } from './helpers';

jest.setTimeout(60_000);

type App = 'gateway' | 'auth' | 'key-pool' | 'admin';
type Line = Record<string, unknown> & { msg?: string; requestId?: string };

/** The JSON lines an app printed on stdout so far. */
function stdoutLines(stack: Stack, app: App): Line[] {
  const out: Line[] = [];
  for (const text of stack.output(app).split('\n')) {
    if (!text.startsWith('{')) continue;
    try {
      out.push(JSON.parse(text) as Line);
    } catch {
      // a line cut by the capture: not one of ours to judge
    }
  }
  return out;
}

const linesOf = (stack: Stack, app: App, requestId: string, msg: string): Promise<Line[]> =>
  poll(
    () => stdoutLines(stack, app).filter((l) => l.requestId === requestId),
    (ls) => ls.some((l) => l.msg === msg),
    10_000,
    `${app}: "${msg}" with requestId ${requestId}`,
  );

/** The transaction line of a request (TRANSACTION_LOG=file; the writer flushes within a second). */
const transactionOf = (stack: Stack, app: App, requestId: string): Promise<Line | undefined> =>
  poll(
    () => {
      const path = join(stack.dataDir, 'transactions', `${app}.log`);
      if (!existsSync(path)) return undefined;
      const lines = readFileSync(path, 'utf8').split('\n').slice(0, -1);
      return lines.map((l) => JSON.parse(l) as Line).find((l) => l.requestId === requestId);
    },
    (l) => l !== undefined,
    10_000,
    `${app} transaction line of ${requestId}`,
  );

describe('one request id everywhere', () => {
  let mock: MockGemini;
  let stack: Stack;
  let token: string;
  let oldSecret: string;
  let newSecret: string;
  const pool = [fakeGeminiKey(), fakeGeminiKey()];

  beforeAll(async () => {
    mock = await startMockGemini();
    // info: the lines of the request followed here are info and warn
    stack = await Stack.start({ geminiBaseUrl: mock.url, env: { TRANSACTION_LOG: 'file', LOG_LEVEL: 'info' } });
    token = await stack.login();
    expect((await stack.api(token, 'POST', '/api/keys', { keys: pool })).status).toBe(201);
    const k = await createUserKey(stack, token, 'rid');
    oldSecret = k.key;
    // the replaced secret still works for a while: auth says so (info) when a gateway looks it up
    const rotated = await stack.api<{ key: string }>(token, 'POST', `/api/auth-keys/${k.id}/rotate`, {
      graceSeconds: 600,
    });
    expect(rotated.status).toBe(200);
    newSecret = rotated.body.key;
    await stack.gatewayReady();
  });

  afterAll(async () => {
    await stack?.stop();
    await mock?.close();
  });

  it("a request's id is on the gateway's transaction line and on auth's and key-pool's lines for it", async () => {
    const requestId = `rid-${randomUUID()}`;
    // the first attempt meets a key Google refuses: key-pool disables it (warn), the other key serves
    mock.script({ type: 'invalidKey', times: 1 });
    const r = await fetch(`${stack.gatewayUrl}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': oldSecret, 'x-request-id': requestId },
      body: JSON.stringify({ contents: [{ parts: [{ text: 'hello' }] }] }),
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-request-id')).toBe(requestId);
    await r.arrayBuffer();

    const tx = await transactionOf(stack, 'gateway', requestId);
    expect(tx).toMatchObject({ log: 'transaction', route: 'generateContent', status: 200 });
    const [auth, keyPool] = await Promise.all([
      linesOf(stack, 'auth', requestId, 'a rotated user key was used during its grace period'),
      linesOf(stack, 'key-pool', requestId, 'pool key disabled'),
    ]);
    expect(auth.find((l) => l.msg?.startsWith('a rotated'))).toMatchObject({ app: 'auth', keyId: expect.any(String) });
    expect(keyPool.find((l) => l.msg === 'pool key disabled')).toMatchObject({ app: 'key-pool' });

    // the request-log row names the same request (its own id has a suffix: a client may reuse its ids)
    const rows = await poll(
      async () => (await stack.api<{ items: RequestLog[] }>(token, 'GET', '/api/logs')).body.items,
      (items) => items.some((l) => l.requestId === requestId),
      10_000,
      'the request-log row',
    );
    const row = rows.find((l) => l.requestId === requestId);
    expect(row).toMatchObject({ status: 200, attempts: 2 });
    expect(row!.id).toMatch(new RegExp(`^${requestId}\\.[0-9a-f]{12}$`));

    // the admin's service-log filter: every line of the request (from every app), nothing else
    const q = `/api/service-logs?requestId=${encodeURIComponent(requestId)}&level=debug`;
    const items = await poll(
      async () => (await stack.api<{ items: ServiceLogLine[] }>(token, 'GET', q)).body.items,
      (ls) => ls.some((l) => l.app === 'auth') && ls.some((l) => l.app === 'key-pool'),
      10_000,
      'service-log lines of the request',
    );
    expect(items.every((l) => l.fields.requestId === requestId)).toBe(true);
    expect((await stack.api(token, 'GET', '/api/service-logs?requestId=a%20b')).status).toBe(400);
  });

  it("a failed admin login: admin's and auth's lines name the admin request's id", async () => {
    const requestId = `login-${randomUUID()}`;
    const r = await fetch(`${stack.adminUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': requestId },
      body: JSON.stringify({ username: stack.adminUsername, password: 'not-the-password' }),
    });
    expect(r.status).toBe(401);
    expect(r.headers.get('x-request-id')).toBe(requestId);
    await linesOf(stack, 'auth', requestId, 'failed login');
    const admin = await poll(
      () => stdoutLines(stack, 'admin').filter((l) => l.requestId === requestId),
      (ls) => ls.length > 0,
      10_000,
      'an admin line of the login',
    );
    expect(admin[0]).toMatchObject({ app: 'admin' });
    expect(await transactionOf(stack, 'admin', requestId)).toMatchObject({ route: '/api/auth/login', status: 401 });
  });

  it('lines written outside any request name none, and no line holds a secret', async () => {
    const all = (['gateway', 'auth', 'key-pool', 'admin'] as const).flatMap((app) => stdoutLines(stack, app));
    const startup = all.filter((l) => l.msg === 'pool loaded' || String(l.msg).startsWith('gateway ready'));
    expect(startup.length).toBeGreaterThanOrEqual(2);
    for (const l of startup) expect(l.requestId).toBeUndefined();
    expect(all.some((l) => typeof l.requestId === 'string')).toBe(true);
    const text = (['gateway', 'auth', 'key-pool', 'admin'] as const).map((app) => stack.output(app)).join('');
    for (const s of [...pool, oldSecret, newSecret, stack.adminPassword, token]) expect(text).not.toContain(s);
  });
});
