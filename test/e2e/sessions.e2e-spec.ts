import { randomBytes } from 'node:crypto';
import type { User } from '@gg/contracts';
import { startMockGemini, Stack, type MockGemini } from '@gg/testing';
import jwt from 'jsonwebtoken';
import { createUser, loginSession, msUntil, type Session } from './accounts-helpers';

jest.setTimeout(90_000);

/** How soon an ended session's access token must be refused on every admin replica. */
const REVOKED_WITHIN_MS = 1000;

/**
 * Sessions that really end (issue 12, point 1) and the stream tickets (point 5), against the real stack with two
 * admin replicas, for both storage types: an access token names its session (`sid`); logout (with the cookie,
 * or with only the bearer token), refresh-token reuse, password change, deactivation and role change refuse its
 * access tokens on both replicas within a second; tokens without `exp`, expired or signed with another secret are
 * refused; the live streams open with a single-use ticket, never with the access token in the URL.
 */
describe.each(['sqlite', 'redis'] as const)('sessions and stream tickets (%s)', (databaseType) => {
  const jwtSecret = randomBytes(32).toString('hex');
  let mock: MockGemini;
  let stack: Stack;
  let admin: Session;
  const pw = (name: string): string => `${name}-password-1`;
  const replicas = (): string[] => [stack.urlOf('admin', 0), stack.urlOf('admin', 1)];

  const get = (base: string, path: string, token: string): Promise<number> =>
    fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } }).then(async (r) => {
      await r.arrayBuffer();
      return r.status;
    });
  /** One route answered by the admin alone (pool keys: key-pool) and one that auth answers, on a replica. */
  const statuses = (base: string, token: string, role: 'admin' | 'user' = 'admin'): Promise<number[]> =>
    Promise.all([
      get(base, role === 'admin' ? '/api/keys' : '/api/auth-keys', token),
      get(base, '/api/auth/me', token),
    ]);

  /** Polls every replica until both routes answer 401; returns the slowest time in ms. */
  async function refusedEverywhere(token: string, role: 'admin' | 'user' = 'admin'): Promise<number> {
    const times = await Promise.all(
      replicas().map((base) =>
        msUntil(
          () => statuses(base, token, role),
          (s) => s.every((x) => x === 401),
          5000,
          `401 from ${base}`,
        ),
      ),
    );
    return Math.max(...times);
  }

  async function liveEverywhere(token: string, role: 'admin' | 'user' = 'admin'): Promise<void> {
    for (const base of replicas()) expect(await statuses(base, token, role)).toEqual([200, 200]);
  }

  const post = (
    base: string,
    path: string,
    init: { token?: string; cookie?: string; body?: unknown } = {},
  ): Promise<Response> =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: {
        ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
        ...(init.cookie ? { cookie: init.cookie } : {}),
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
    });

  beforeAll(async () => {
    mock = await startMockGemini();
    stack = await Stack.start({ geminiBaseUrl: mock.url, databaseType, env: { JWT_SECRET: jwtSecret } });
    await stack.spawn('admin', 1);
    admin = await loginSession(stack, stack.adminUsername, stack.adminPassword);
  });

  afterAll(async () => {
    await stack?.stop();
    await mock?.close();
  });

  it('refuses tokens signed with another secret, expired, without exp and without a session id; the same claims correctly signed pass', async () => {
    const claims = jwt.decode(admin.token) as Record<string, unknown>;
    expect(claims).toMatchObject({ sid: expect.any(String), iat: expect.any(Number), exp: expect.any(Number) });
    const { sub, username, role, tv, sid } = claims;
    const opts = { algorithm: 'HS256' as const, issuer: 'gemini-gateway', audience: 'gemini-gateway-admin' };
    const good = jwt.sign({ sub, username, role, tv, sid }, jwtSecret, { ...opts, expiresIn: 60 });
    const forged = jwt.sign({ sub, username, role, tv, sid }, randomBytes(32).toString('hex'), {
      ...opts,
      expiresIn: 60,
    });
    const expired = jwt.sign({ sub, username, role, tv, sid, iat: Math.floor(Date.now() / 1000) - 120 }, jwtSecret, {
      ...opts,
      expiresIn: 60,
    });
    const noExp = jwt.sign({ sub, username, role, tv, sid }, jwtSecret, opts);
    const noSid = jwt.sign({ sub, username, role, tv }, jwtSecret, { ...opts, expiresIn: 60 });
    for (const base of replicas()) {
      expect(await statuses(base, good)).toEqual([200, 200]);
      for (const bad of [forged, expired, noExp, noSid]) expect(await statuses(base, bad)).toEqual([401, 401]);
    }
  });

  it('logout with the refresh cookie refuses the access token on both replicas within 1 s', async () => {
    const s = await loginSession(stack, stack.adminUsername, stack.adminPassword);
    await liveEverywhere(s.token);
    expect((await post(replicas()[0], '/api/auth/logout', { cookie: s.cookie })).status).toBe(204);
    expect(await refusedEverywhere(s.token)).toBeLessThanOrEqual(REVOKED_WITHIN_MS);
    await liveEverywhere(admin.token); // another session of the same user lives on
  });

  it('logout with only the bearer token (no cookie) ends that session: its access and refresh tokens are refused', async () => {
    const s = await loginSession(stack, stack.adminUsername, stack.adminPassword);
    await liveEverywhere(s.token);
    expect((await post(replicas()[1], '/api/auth/logout', { token: s.token })).status).toBe(204);
    expect(await refusedEverywhere(s.token)).toBeLessThanOrEqual(REVOKED_WITHIN_MS);
    expect((await post(replicas()[0], '/api/auth/refresh', { cookie: s.cookie })).status).toBe(401);
    await liveEverywhere(admin.token);
  });

  it('refresh-token reuse revokes the family: every access token of that session is refused within 1 s', async () => {
    const first = await loginSession(stack, stack.adminUsername, stack.adminPassword);
    const rotated = await post(replicas()[0], '/api/auth/refresh', { cookie: first.cookie });
    expect(rotated.status).toBe(200);
    const second = ((await rotated.json()) as { access_token: string }).access_token;
    await liveEverywhere(first.token);
    await liveEverywhere(second);
    // the old refresh token comes back (stolen copy): auth ends the whole session
    expect((await post(replicas()[1], '/api/auth/refresh', { cookie: first.cookie })).status).toBe(401);
    const [a, b] = await Promise.all([refusedEverywhere(first.token), refusedEverywhere(second)]);
    expect(Math.max(a, b)).toBeLessThanOrEqual(REVOKED_WITHIN_MS);
  });

  it('a password change, a deactivation and a role change each end every session of the user within 1 s', async () => {
    const name = `u-ends-${databaseType}`;
    const user = await createUser(stack, admin.token, name, pw(name));
    const change = (body: object) =>
      fetch(`${replicas()[0]}/api/users/${user.id}`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then((r) => r.status);

    // password change by the user: both of their sessions end
    const [one, two] = [await loginSession(stack, name, pw(name)), await loginSession(stack, name, pw(name))];
    await liveEverywhere(one.token, 'user');
    const changed = await fetch(`${replicas()[1]}/api/auth/me/password`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${one.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ currentPassword: pw(name), newPassword: pw(`${name}-2`) }),
    });
    expect(changed.status).toBe(204);
    const [t1, t2] = await Promise.all([refusedEverywhere(one.token, 'user'), refusedEverywhere(two.token, 'user')]);
    expect(Math.max(t1, t2)).toBeLessThanOrEqual(REVOKED_WITHIN_MS);

    // role change by an admin
    const three = await loginSession(stack, name, pw(`${name}-2`));
    await liveEverywhere(three.token, 'user');
    expect(await change({ role: 'admin' })).toBe(200);
    expect(await refusedEverywhere(three.token, 'user')).toBeLessThanOrEqual(REVOKED_WITHIN_MS);

    // deactivation by an admin
    const four = await loginSession(stack, name, pw(`${name}-2`));
    await liveEverywhere(four.token, 'admin');
    expect(await change({ isActive: false })).toBe(200);
    expect(await refusedEverywhere(four.token, 'admin')).toBeLessThanOrEqual(REVOKED_WITHIN_MS);
    expect((await post(replicas()[0], '/api/auth/refresh', { cookie: four.cookie })).status).toBe(401);
  });

  it('streams open with a single-use ticket from POST /api/streams/ticket, never with the access token in the URL', async () => {
    const [a, b] = replicas();
    /** Status and content type of a stream request; the stream itself is left at once. */
    const open = async (url: string): Promise<[number, string]> => {
      const ctl = new AbortController();
      const r = await fetch(url, { signal: ctl.signal });
      const answer: [number, string] = [r.status, r.headers.get('content-type') ?? ''];
      ctl.abort();
      await r.body?.cancel().catch(() => undefined);
      return answer;
    };
    const ticket = async (base: string, token: string, stream: string): Promise<Response> =>
      post(base, '/api/streams/ticket', { token, body: { stream } });

    // the access token in the URL opens nothing any more
    expect((await open(`${a}/api/logs/stream?access_token=${admin.token}`))[0]).toBe(401);
    expect((await open(`${a}/api/service-logs/stream?access_token=${admin.token}`))[0]).toBe(401);

    const issued = await ticket(a, admin.token, 'logs');
    expect(issued.status).toBe(200);
    const body = (await issued.json()) as { ticket: string; expiresIn: number };
    expect(body).toEqual({ ticket: expect.stringMatching(/^[\w-]{40,}$/), expiresIn: 30 });
    // redeemed on the other replica, once
    expect(await open(`${b}/api/logs/stream?ticket=${body.ticket}`)).toEqual([
      200,
      expect.stringContaining('text/event-stream'),
    ]);
    expect((await open(`${a}/api/logs/stream?ticket=${body.ticket}`))[0]).toBe(401);

    // a ticket is for its stream only; service logs are for admins
    const logsOnly = ((await (await ticket(a, admin.token, 'logs')).json()) as { ticket: string }).ticket;
    expect((await open(`${a}/api/service-logs/stream?ticket=${logsOnly}`))[0]).toBe(401);
    const svc = ((await (await ticket(a, admin.token, 'service-logs')).json()) as { ticket: string }).ticket;
    expect(await open(`${a}/api/service-logs/stream?ticket=${svc}`)).toEqual([
      200,
      expect.stringContaining('text/event-stream'),
    ]);

    const name = `u-streams-${databaseType}`;
    await createUser(stack, admin.token, name, pw(name));
    const user = await loginSession(stack, name, pw(name));
    expect((await ticket(a, user.token, 'service-logs')).status).toBe(403);
    const bad = await ticket(a, user.token, 'everything');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/stream must be one of/);
    expect((await post(a, '/api/streams/ticket', { body: { stream: 'logs' } })).status).toBe(401);

    // a ticket of a session that has ended opens nothing
    const late = ((await (await ticket(a, user.token, 'logs')).json()) as { ticket: string }).ticket;
    expect((await post(a, '/api/auth/logout', { token: user.token })).status).toBe(204);
    await refusedEverywhere(user.token, 'user');
    expect((await open(`${b}/api/logs/stream?ticket=${late}`))[0]).toBe(401);
  });

  it('an open request-log or service-log stream ends within seconds of its session ending', async () => {
    const [a, b] = replicas();
    const s = await loginSession(stack, stack.adminUsername, stack.adminPassword);
    /** Opens a stream with a fresh ticket; resolves with the ms from `since()` to the stream's end, read by the client. */
    const follow = async (base: string, stream: 'logs' | 'service-logs', since: () => number): Promise<number> => {
      const issued = await post(base, '/api/streams/ticket', { token: s.token, body: { stream } });
      const { ticket } = (await issued.json()) as { ticket: string };
      const r = await fetch(`${base}/api/${stream}/stream?ticket=${ticket}`);
      expect(r.status).toBe(200);
      const reader = r.body!.getReader();
      while (!(await reader.read()).done); // the server ends it; nothing else does
      return Date.now() - since();
    };
    let endedAt = Number.POSITIVE_INFINITY;
    const streams = [follow(a, 'logs', () => endedAt), follow(b, 'service-logs', () => endedAt)];
    await new Promise((r) => setTimeout(r, 500)); // fixed on purpose: both streams are open before the session ends
    endedAt = Date.now();
    expect((await post(a, '/api/auth/logout', { token: s.token, cookie: s.cookie })).status).toBe(204);
    // each open stream asks auth every 5 s whether its session is live
    const [logs, serviceLogs] = await Promise.all(streams);
    expect(logs).toBeLessThan(7_000);
    expect(serviceLogs).toBeLessThan(7_000);
  });

  it('lists no users to a caller whose session ended', async () => {
    const s = await loginSession(stack, stack.adminUsername, stack.adminPassword);
    expect((await stack.api<User[]>(s.token, 'GET', '/api/users')).status).toBe(200);
    expect((await post(replicas()[0], '/api/auth/logout', { token: s.token, cookie: s.cookie })).status).toBe(204);
    expect((await stack.api<User[]>(s.token, 'GET', '/api/users')).status).toBe(401);
  });
});
