import type { AuthKey, AuthKeyWithSecret, User } from '@gg/contracts';
import { poll, type Stack } from '@gg/testing';

/** Helpers of the accounts end-to-end suites: users, sessions with cookies, user keys and gateway calls. */

export interface Session {
  token: string;
  /** `gg_refresh=…` as the browser would send it back */
  cookie: string;
}

export async function loginSession(stack: Stack, username: string, password: string): Promise<Session> {
  const r = await fetch(`${stack.adminUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (r.status !== 200) throw new Error(`login ${username}: ${r.status} ${await r.text()}`);
  const token = ((await r.json()) as { access_token: string }).access_token;
  return { token, cookie: r.headers.getSetCookie()[0].split(';')[0] };
}

export async function createUser(
  stack: Stack,
  adminToken: string,
  username: string,
  password: string,
  role: 'admin' | 'user' = 'user',
): Promise<User> {
  const r = await stack.api<User>(adminToken, 'POST', '/api/users', { username, password, role });
  if (r.status !== 201) throw new Error(`POST /api/users: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

export async function createKey(
  stack: Stack,
  token: string,
  body: Record<string, unknown>,
): Promise<AuthKeyWithSecret> {
  const r = await stack.api<AuthKeyWithSecret>(token, 'POST', '/api/auth-keys', body);
  if (r.status !== 201) throw new Error(`POST /api/auth-keys: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

export async function keyOf(stack: Stack, token: string, id: string): Promise<AuthKey | undefined> {
  const r = await stack.api<AuthKey[]>(token, 'GET', '/api/auth-keys');
  return r.body.find((k) => k.id === id);
}

/** One generateContent through a gateway with a user key; status and headers, the body read. */
export async function generate(
  gatewayUrl: string,
  key: string,
  model = 'gemini-2.5-flash',
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: string }> {
  const r = await fetch(`${gatewayUrl}/v1beta/models/${model}:generateContent`, {
    method: 'POST',
    headers: { 'x-goog-api-key': key, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ contents: [{ parts: [{ text: 'hello' }] }] }),
  });
  return { status: r.status, headers: r.headers, body: await r.text() };
}

/** A cheap authenticated call (models.list) through a gateway; its status. */
export function listModels(gatewayUrl: string, key: string): Promise<number> {
  return fetch(`${gatewayUrl}/v1beta/models`, { headers: { 'x-goog-api-key': key } }).then(async (r) => {
    await r.arrayBuffer();
    return r.status;
  });
}

/** `poll` (every 20 ms) timed: the ms it took until `ok`; throws after `timeoutMs`. */
export async function msUntil<T>(
  fn: () => Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs: number,
  what: string,
): Promise<number> {
  const t0 = Date.now();
  await poll(fn, ok, timeoutMs, what, { intervalMs: 20 });
  return Date.now() - t0;
}
