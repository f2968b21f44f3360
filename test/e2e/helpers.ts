import { randomBytes } from 'node:crypto';
import type { AuthKey, AuthKeyWithSecret, PoolKey } from '@gg/contracts';
import type { Stack } from '@gg/testing';

/** A key shaped like a Gemini key (the scripted upstream accepts any `AIza…`). */
export function fakeGeminiKey(): string {
  return 'AIza' + randomBytes(26).toString('base64url').slice(0, 35);
}

export function maskOf(key: string): string {
  return `${key.slice(0, 4)}…${key.slice(-4)}`;
}

/** The shared poll-until helper, re-exported for the specs that import it from here. */
export { poll } from '@gg/testing';

export async function poolKeys(stack: Stack, token: string): Promise<PoolKey[]> {
  const r = await stack.api<PoolKey[]>(token, 'GET', '/api/keys');
  if (r.status !== 200) throw new Error(`GET /api/keys: ${r.status}`);
  return r.body;
}

export async function createUserKey(stack: Stack, token: string, name: string): Promise<AuthKeyWithSecret> {
  const r = await stack.api<AuthKeyWithSecret>(token, 'POST', '/api/auth-keys', { name });
  if (r.status !== 201) throw new Error(`POST /api/auth-keys: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

export async function userKey(stack: Stack, token: string, id: string): Promise<AuthKey | undefined> {
  const r = await stack.api<AuthKey[]>(token, 'GET', '/api/auth-keys');
  return r.body.find((k) => k.id === id);
}
