import { BadRequestException, ValidationPipe, type ArgumentMetadata } from '@nestjs/common';
import {
  addPoolKeysSchema,
  changePasswordSchema,
  createAuthKeySchema,
  createUserSchema,
  listAuthKeysQuerySchema,
  loginSchema,
  logsQuerySchema,
  statsQuerySchema,
  updateUserSchema,
  type LogsQueryInput,
  type StatsQueryInput,
} from '@gg/contracts';
import { ZodValidationPipe } from '@gg/nest-common';
import type { z } from 'zod';
import { IdParamDto } from './common/id-param.dto';

// The pipes exactly as the app installs them: the shared schemas per handler, class-validator for path ids.
const pipe = new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true });

function check(schema: z.ZodType, value: unknown): Promise<unknown> {
  return Promise.resolve().then(() => new ZodValidationPipe(schema).transform(value));
}

function checkParam(metatype: ArgumentMetadata['metatype'], value: unknown): Promise<unknown> {
  return pipe.transform(value, { type: 'param', metatype });
}

async function messageOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(BadRequestException);
    const m = ((e as BadRequestException).getResponse() as { message: string | string[] }).message;
    return Array.isArray(m) ? m.join('; ') : m;
  }
  throw new Error('expected a 400');
}

describe('admin request validation (shared schemas)', () => {
  it('accepts pool keys as one string or as an array, and nothing else', async () => {
    await expect(check(addPoolKeysSchema, { keys: 'AIza1\nAIza2,AIza3' })).resolves.toEqual({
      keys: 'AIza1\nAIza2,AIza3',
    });
    await expect(check(addPoolKeysSchema, { keys: ['AIza1', 'AIza2'] })).resolves.toEqual({ keys: ['AIza1', 'AIza2'] });
    for (const keys of [5, '', '   ', [], ['ok', ''], ['ok', 3], null, { a: 1 }]) {
      expect(await messageOf(check(addPoolKeysSchema, { keys }))).toMatch(/^keys must be a non-empty string/);
    }
    expect(await messageOf(check(addPoolKeysSchema, {}))).toMatch(/keys must be/);
  });

  it('refuses unknown properties with their name', async () => {
    expect(await messageOf(check(loginSchema, { username: 'a', password: 'b', admin: true }))).toBe(
      'property admin should not exist',
    );
  });

  it('checks users: username shape, password length, role', async () => {
    await expect(check(createUserSchema, { username: 'bob', password: 'longenough', role: 'user' })).resolves.toEqual({
      username: 'bob',
      password: 'longenough',
      role: 'user',
    });
    expect(await messageOf(check(createUserSchema, { username: 'bob', password: 'longenough', role: 'root' }))).toBe(
      'role must be "admin" or "user"',
    );
    expect(await messageOf(check(createUserSchema, { username: 'b', password: 'longenough', role: 'user' }))).toMatch(
      /^username must be 3-64/,
    );
    expect(await messageOf(check(createUserSchema, { username: 'bob', password: 'short', role: 'user' }))).toBe(
      'password must be at least 8 characters',
    );
    expect(await messageOf(check(updateUserSchema, { isActive: 'yes' }))).toBe('isActive must be true or false');
    await expect(check(updateUserSchema, {})).resolves.toEqual({});
    expect(await messageOf(check(changePasswordSchema, { currentPassword: 'x', newPassword: 'short' }))).toMatch(
      /newPassword must be at least 8/,
    );
  });

  it('checks user keys: a name, an ISO expiry or none', async () => {
    await expect(check(createAuthKeySchema, { name: 'ci', expiresAt: '2030-01-01T00:00:00Z' })).resolves.toBeDefined();
    await expect(check(createAuthKeySchema, { name: 'ci', expiresAt: null })).resolves.toBeDefined();
    expect(await messageOf(check(createAuthKeySchema, { name: '' }))).toBe('name must be 1-100 characters');
    expect(await messageOf(check(createAuthKeySchema, { name: 'ci', expiresAt: 'tomorrow' }))).toMatch(
      /^expiresAt must be an ISO 8601/,
    );
    expect(await messageOf(check(listAuthKeysQuerySchema, { userId: '../x' }))).toMatch(
      /^userId must be 1-64 characters/,
    );
  });

  it('turns log query strings into numbers and refuses nonsense', async () => {
    const q = (await check(logsQuerySchema, {
      limit: '50',
      status: '429',
      since: '2030-01-01T00:00:00Z',
    })) as LogsQueryInput;
    expect(q.limit).toBe(50);
    expect(q.status).toBe(429);
    expect(await messageOf(check(logsQuerySchema, { limit: 'abc' }))).toMatch(/limit must be an integer/);
    expect(await messageOf(check(logsQuerySchema, { status: '42' }))).toBe('status must be an HTTP status code');
    expect(await messageOf(check(logsQuerySchema, { userId: 'someone' }))).toBe('property userId should not exist');
    // the bound auth serves: 800 was accepted here and then refused by auth as `query.limit`
    expect(await messageOf(check(logsQuerySchema, { limit: '800' }))).toBe('limit must be an integer from 1 to 500');
  });

  it('defaults the stats window to 24h and allows only 1h, 24h, 7d', async () => {
    expect(((await check(statsQuerySchema, {})) as StatsQueryInput).window).toBe('24h');
    expect(((await check(statsQuerySchema, { window: '7d' })) as StatsQueryInput).window).toBe('7d');
    expect(await messageOf(check(statsQuerySchema, { window: '2d' }))).toBe('window must be one of 1h, 24h, 7d');
  });

  it('checks ids in the path', async () => {
    await expect(checkParam(IdParamDto, { id: '6f1c2a9e-1b2c-4d5e-8f90-0123456789ab' })).resolves.toBeDefined();
    expect(await messageOf(checkParam(IdParamDto, { id: 'a b' }))).toMatch(/^id must be 1-64 characters/);
  });
});
