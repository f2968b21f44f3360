import {
  addPoolKeysRequestSchema,
  addPoolKeysSchema,
  changePasswordRequestSchema,
  changePasswordSchema,
  createAuthKeySchema,
  createKeyRequestSchema,
  createUserRequestSchema,
  createUserSchema,
  loginRequestSchema,
  loginSchema,
  logsQueryRequestSchema,
  logsQuerySchema,
  statsQuerySchema,
  statsRequestSchema,
  updateAuthKeySchema,
  updateKeyRequestSchema,
  updateUserRequestSchema,
  updateUserSchema,
  type AuthKeyWithSecret,
  type User,
} from '@gg/contracts';
import { zodIssueMessages } from '@gg/nest-common';
import { startMockGemini, Stack, type MockGemini } from '@gg/testing';
import type { z } from 'zod';
import { fakeGeminiKey } from './helpers';

jest.setTimeout(60_000);

/** What the admin adds to a payload before it sends it to auth (the values do not matter to the schemas). */
const envelope = { proof: 'proof', caller: { userId: 'u-1', role: 'admin' as const, tokenVersion: 0 } };

interface Row {
  what: string;
  method: string;
  /** the admin path; `:key`/`:user` are replaced with ids made in beforeAll */
  path: string;
  /** the body, or the query string as an object */
  input: Record<string, unknown>;
  valid: boolean;
  /** the schema the admin checks `input` with */
  http: z.ZodType;
  /** the schema auth (or key-pool) checks the forwarded message with, and that message */
  rpc: z.ZodType;
  forward: (input: Record<string, unknown>) => unknown;
}

const asQuery = (input: Record<string, unknown>): string => `?${new URLSearchParams(input as Record<string, string>)}`;
const logs = (input: Record<string, string>, valid: boolean): Row => ({
  what: `logs ${asQuery(input)}`,
  method: 'GET',
  path: `/api/logs${asQuery(input)}`,
  input,
  valid,
  http: logsQuerySchema,
  rpc: logsQueryRequestSchema,
  forward: (q) => ({ ...envelope, query: { ...q, userId: 'u-1' } }),
});
const body = (
  what: string,
  method: string,
  path: string,
  input: Record<string, unknown>,
  valid: boolean,
  http: z.ZodType,
  rpc: z.ZodType,
  id?: boolean,
): Row => ({
  what,
  method,
  path,
  input,
  valid,
  http,
  rpc,
  forward: (b) =>
    rpc === loginRequestSchema || rpc === addPoolKeysRequestSchema
      ? b
      : { ...envelope, ...(id ? { id: 'some-id' } : {}), ...b },
});

const TABLE: Row[] = [
  logs({ limit: '500' }, true),
  logs({ limit: '800' }, false),
  logs({ limit: '0' }, false),
  logs({ limit: 'zero' }, false),
  logs({ status: '429', model: 'gemini-2.5-flash' }, true),
  logs({ status: '42' }, false),
  logs({ since: '2030-01-01T00:00:00Z' }, true),
  logs({ since: 'yesterday' }, false),
  logs({ authKeyId: 'a b' }, false),
  logs({ other: '1' }, false),
  {
    ...logs({}, true),
    what: 'stats 7d',
    path: '/api/stats?window=7d',
    input: { window: '7d' },
    http: statsQuerySchema,
    rpc: statsRequestSchema,
    forward: (q) => ({ ...envelope, ...q }),
  },
  {
    ...logs({}, false),
    what: 'stats 2d',
    path: '/api/stats?window=2d',
    input: { window: '2d' },
    http: statsQuerySchema,
    rpc: statsRequestSchema,
    forward: (q) => ({ ...envelope, ...q }),
  },
  body(
    'key: a name',
    'POST',
    '/api/auth-keys',
    { name: 'parity-ok' },
    true,
    createAuthKeySchema,
    createKeyRequestSchema,
  ),
  body(
    'key: an empty name',
    'POST',
    '/api/auth-keys',
    { name: '' },
    false,
    createAuthKeySchema,
    createKeyRequestSchema,
  ),
  body(
    'key: a name too long',
    'POST',
    '/api/auth-keys',
    { name: 'x'.repeat(101) },
    false,
    createAuthKeySchema,
    createKeyRequestSchema,
  ),
  body(
    'key: limits',
    'POST',
    '/api/auth-keys',
    { name: 'parity-limits', rateLimitPerMinute: 60, allowedModels: ['gemini-*'], expiresAt: '2030-01-01T00:00:00Z' },
    true,
    createAuthKeySchema,
    createKeyRequestSchema,
  ),
  body(
    'key: rate 0',
    'POST',
    '/api/auth-keys',
    { name: 'k', rateLimitPerMinute: 0 },
    false,
    createAuthKeySchema,
    createKeyRequestSchema,
  ),
  body(
    'key: expiry "tomorrow"',
    'POST',
    '/api/auth-keys',
    { name: 'k', expiresAt: 'tomorrow' },
    false,
    createAuthKeySchema,
    createKeyRequestSchema,
  ),
  body(
    'key rename: empty',
    'PATCH',
    '/api/auth-keys/:key',
    { name: '' },
    false,
    updateAuthKeySchema,
    updateKeyRequestSchema,
    true,
  ),
  body(
    'key rename',
    'PATCH',
    '/api/auth-keys/:key',
    { name: 'parity-renamed' },
    true,
    updateAuthKeySchema,
    updateKeyRequestSchema,
    true,
  ),
  body(
    'user: a good one',
    'POST',
    '/api/users',
    { username: 'parity-bob', password: 'longenough-1', role: 'user' },
    true,
    createUserSchema,
    createUserRequestSchema,
  ),
  body(
    'user: a bad username',
    'POST',
    '/api/users',
    { username: 'b', password: 'longenough-1', role: 'user' },
    false,
    createUserSchema,
    createUserRequestSchema,
  ),
  body(
    'user: username with a leading "-"',
    'POST',
    '/api/users',
    { username: '-bob', password: 'longenough-1', role: 'user' },
    false,
    createUserSchema,
    createUserRequestSchema,
  ),
  body(
    'user: role root',
    'POST',
    '/api/users',
    { username: 'parity-eve', password: 'longenough-1', role: 'root' },
    false,
    createUserSchema,
    createUserRequestSchema,
  ),
  body(
    'user: short password',
    'POST',
    '/api/users',
    { username: 'parity-eve', password: 'short', role: 'user' },
    false,
    createUserSchema,
    createUserRequestSchema,
  ),
  body(
    'user patch: isActive "yes"',
    'PATCH',
    '/api/users/:user',
    { isActive: 'yes' },
    false,
    updateUserSchema,
    updateUserRequestSchema,
    true,
  ),
  body(
    'user patch: deactivate',
    'PATCH',
    '/api/users/:user',
    { isActive: false },
    true,
    updateUserSchema,
    updateUserRequestSchema,
    true,
  ),
  body(
    'login without a password',
    'POST',
    '/api/auth/login',
    { username: 'admin' },
    false,
    loginSchema,
    loginRequestSchema,
  ),
  body(
    'password change: too short',
    'PATCH',
    '/api/auth/me/password',
    { currentPassword: 'x', newPassword: 'short' },
    false,
    changePasswordSchema,
    changePasswordRequestSchema,
  ),
  body('pool keys: a number', 'POST', '/api/keys', { keys: 42 }, false, addPoolKeysSchema, addPoolKeysRequestSchema),
  body(
    'pool keys: an empty one',
    'POST',
    '/api/keys',
    { keys: ['AIzaOk', ''] },
    false,
    addPoolKeysSchema,
    addPoolKeysRequestSchema,
  ),
  body(
    'pool keys: a list',
    'POST',
    '/api/keys',
    { keys: [fakeGeminiKey()] },
    true,
    addPoolKeysSchema,
    addPoolKeysRequestSchema,
  ),
];

/** The message a refused payload gets, as ZodValidationPipe writes it. */
const refusal = (schema: z.ZodType, value: unknown): string | null => {
  const r = schema.safeParse(value);
  return r.success ? null : zodIssueMessages(r.error).join('; ');
};

/**
 * One definition of every payload: the admin (HTTP) and auth/key-pool (RPC) accept and refuse the same inputs.
 * Each row goes through the admin end to end (an input the admin accepts must also be accepted by auth: a 2xx, not
 * auth's 400), and the message auth would get is checked with auth's own schema: same verdict, same field.
 */
describe('payload parity: admin and auth validate with the same schemas', () => {
  let mock: MockGemini;
  let stack: Stack;
  let admin: string;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    mock = await startMockGemini();
    stack = await Stack.start({ geminiBaseUrl: mock.url });
    admin = await stack.login();
    const key = await stack.api<AuthKeyWithSecret>(admin, 'POST', '/api/auth-keys', { name: 'parity-key' });
    const user = await stack.api<User>(admin, 'POST', '/api/users', {
      username: 'parity-target',
      password: 'longenough-1',
      role: 'user',
    });
    expect([key.status, user.status]).toEqual([201, 201]);
    ids[':key'] = key.body.id;
    ids[':user'] = user.body.id;
  });

  afterAll(async () => {
    await stack?.stop();
    await mock?.close();
  });

  it.each(TABLE.map((row) => [row.what, row] as const))('%s', async (_what, row) => {
    const path = row.path.replace(/:key|:user/, (m) => ids[m] ?? m);
    const res = await stack.api<{ message?: string; code?: string }>(
      admin,
      row.method,
      path,
      row.method === 'GET' ? undefined : row.input,
    );
    const adminRefusal = refusal(row.http, row.input);
    const authRefusal = refusal(row.rpc, row.forward(row.input));

    // both layers give the same verdict, and it is the expected one
    expect({ admin: adminRefusal === null, auth: authRefusal === null }).toEqual({ admin: row.valid, auth: row.valid });
    if (row.valid) {
      // accepted by the admin and then by auth or key-pool: a success end to end
      expect([200, 201]).toContain(res.status);
      return;
    }
    // refused by the admin with the field named, in the shape the SPA reads; auth names the same field
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ statusCode: 400, message: adminRefusal });
    expect(authRefusal).toBe(
      row.rpc === logsQueryRequestSchema ? adminRefusal?.replace(/^(property )?/, (p) => `${p}query.`) : adminRefusal,
    );
  });

  it('documents the converted payloads in /api/docs-json from the same schemas', async () => {
    interface Schema {
      type?: string;
      required?: string[];
      properties?: Record<string, Schema>;
      pattern?: string;
      enum?: string[];
    }
    type Operation = {
      requestBody?: { content: Record<string, { schema: Schema }> };
      parameters?: { name: string; schema: Schema }[];
    };
    const doc = (await stack.api<{ paths: Record<string, Record<string, Operation>> }>(admin, 'GET', '/api/docs-json'))
      .body;
    const bodyOf = (path: string): Schema | undefined =>
      doc.paths[path]?.['post']?.requestBody?.content['application/json']?.schema;
    expect(bodyOf('/api/auth-keys')).toMatchObject({
      type: 'object',
      required: ['name'],
      properties: { name: { type: 'string', minLength: 1, maxLength: 100 } },
    });
    const limit = doc.paths['/api/logs']?.['get']?.parameters?.find((p) => p.name === 'limit');
    expect(limit?.schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 500 });
    expect(bodyOf('/api/users')?.properties?.['username']?.pattern).toBe('^[A-Za-z0-9][A-Za-z0-9_.@-]{2,63}$');
    expect(bodyOf('/api/users')?.properties?.['role']).toMatchObject({ enum: ['admin', 'user'] });
  });
});
