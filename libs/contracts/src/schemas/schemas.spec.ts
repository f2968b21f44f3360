import {
  addPoolKeysSchema,
  changePasswordSchema,
  createAuthKeySchema,
  createKeyRequestSchema,
  createUserSchema,
  loginSchema,
  logsQueryRequestSchema,
  logsQuerySchema,
  LOGS_PAGE_MAX,
  statsQuerySchema,
  updateAuthKeySchema,
  updateKeyRequestSchema,
  updateUserSchema,
} from './index';

const caller = { proof: 'p', caller: { userId: 'u-1', role: 'admin' as const, tokenVersion: 0 } };

describe('shared request schemas', () => {
  it('takes the log page size from one bound, for the query string and the RPC alike', () => {
    expect(logsQuerySchema.parse({ limit: '500', status: '429' })).toEqual({ limit: 500, status: 429 });
    expect(logsQuerySchema.safeParse({ limit: String(LOGS_PAGE_MAX + 1) }).success).toBe(false);
    expect(logsQuerySchema.safeParse({ limit: '800' }).success).toBe(false);
    expect(logsQuerySchema.safeParse({ limit: 'zero' }).success).toBe(false);
    expect(logsQueryRequestSchema.safeParse({ ...caller, query: { limit: 800 } }).success).toBe(false);
    expect(logsQueryRequestSchema.parse({ ...caller, query: { limit: 500, userId: 'u-1' } }).query).toEqual({
      limit: 500,
      userId: 'u-1',
    });
  });

  it('checks the log filters', () => {
    expect(logsQuerySchema.safeParse({ since: '2030-01-01T00:00:00Z', authKeyId: 'k_1' }).success).toBe(true);
    expect(logsQuerySchema.safeParse({ since: '2030-01-01' }).success).toBe(true);
    expect(logsQuerySchema.safeParse({ since: 'yesterday' }).success).toBe(false);
    expect(logsQuerySchema.safeParse({ authKeyId: 'a b' }).success).toBe(false);
    expect(logsQuerySchema.safeParse({ status: '99' }).success).toBe(false);
    expect(logsQuerySchema.safeParse({ other: '1' }).success).toBe(false);
  });

  it('refuses an empty key name in the HTTP body and in the RPC alike', () => {
    expect(createAuthKeySchema.safeParse({ name: '' }).error?.issues[0]?.message).toBe('name must be 1-100 characters');
    expect(createKeyRequestSchema.safeParse({ ...caller, name: '' }).success).toBe(false);
    expect(updateAuthKeySchema.safeParse({ name: '' }).success).toBe(false);
    expect(updateKeyRequestSchema.safeParse({ ...caller, id: 'k1', name: '' }).success).toBe(false);
    expect(
      createAuthKeySchema.parse({ name: 'ci', rateLimitPerMinute: null, allowedModels: ['gemini-*'], expiresAt: null }),
    ).toEqual({
      name: 'ci',
      rateLimitPerMinute: null,
      allowedModels: ['gemini-*'],
      expiresAt: null,
    });
    expect(createAuthKeySchema.safeParse({ name: 'x', rateLimitPerMinute: 0 }).success).toBe(false);
    expect(createAuthKeySchema.safeParse({ name: 'x', rateLimitPerMinute: 1.5 }).success).toBe(false);
    expect(createAuthKeySchema.safeParse({ name: 'x', allowedModels: 'gemini' }).success).toBe(false);
  });

  it('checks usernames, roles and passwords of users', () => {
    expect(createUserSchema.safeParse({ username: 'bob', password: 'longenough', role: 'user' }).success).toBe(true);
    expect(
      createUserSchema.safeParse({ username: 'b', password: 'longenough', role: 'user' }).error?.issues[0]?.message,
    ).toMatch(/^username must be 3-64/);
    expect(createUserSchema.safeParse({ username: '-bob', password: 'longenough', role: 'user' }).success).toBe(false);
    expect(createUserSchema.safeParse({ username: 'bob', password: 'short', role: 'user' }).success).toBe(false);
    expect(
      createUserSchema.safeParse({ username: 'bob', password: 'longenough', role: 'root' }).error?.issues[0]?.message,
    ).toBe('role must be "admin" or "user"');
    expect(updateUserSchema.safeParse({ isActive: 'yes' }).success).toBe(false);
    expect(updateUserSchema.safeParse({}).success).toBe(true);
  });

  it('checks login and password change', () => {
    expect(loginSchema.safeParse({ username: 'alice' }).error?.issues[0]?.message).toBe('password is required');
    expect(loginSchema.safeParse({ username: 'alice', password: 'x' }).success).toBe(true);
    expect(loginSchema.safeParse({ username: 'alice', password: 'x', ip: '1.2.3.4' }).success).toBe(false);
    expect(changePasswordSchema.safeParse({ currentPassword: 'x', newPassword: 'short' }).success).toBe(false);
  });

  it('defaults the stats window and refuses others', () => {
    expect(statsQuerySchema.parse({})).toEqual({ window: '24h' });
    expect(statsQuerySchema.safeParse({ window: '2d' }).error?.issues[0]?.message).toBe(
      'window must be one of 1h, 24h, 7d',
    );
  });

  it('accepts pool keys as one string or a list of non-empty strings', () => {
    expect(addPoolKeysSchema.safeParse({ keys: 'AIza1\nAIza2' }).success).toBe(true);
    expect(addPoolKeysSchema.safeParse({ keys: ['AIza1', 'AIza2'] }).success).toBe(true);
    for (const keys of [42, '', '  ', [], [''], ['ok', 3], ['x'.repeat(513)]])
      expect(addPoolKeysSchema.safeParse({ keys }).success).toBe(false);
  });
});
