import { BadRequestException, ValidationPipe, type ArgumentMetadata } from '@nestjs/common';
import { CreateAuthKeyDto, ListAuthKeysQuery } from './auth-keys/auth-keys.dto';
import { IdParamDto } from './common/id-param.dto';
import { AddPoolKeysDto } from './keys/keys.dto';
import { LogsQueryDto } from './logs/logs.dto';
import { ChangePasswordDto, LoginDto } from './session/session.dto';
import { StatsQueryDto } from './stats/stats.dto';
import { CreateUserDto, UpdateUserDto } from './users/users.dto';

// The pipe exactly as the app installs it.
const pipe = new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true });

function check(metatype: ArgumentMetadata['metatype'], value: unknown, type: ArgumentMetadata['type'] = 'body'): Promise<unknown> {
  return pipe.transform(value, { type, metatype });
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

describe('admin DTO validation', () => {
  it('accepts pool keys as one string or as an array, and nothing else', async () => {
    await expect(check(AddPoolKeysDto, { keys: 'AIza1\nAIza2,AIza3' })).resolves.toEqual({ keys: 'AIza1\nAIza2,AIza3' });
    await expect(check(AddPoolKeysDto, { keys: ['AIza1', 'AIza2'] })).resolves.toEqual({ keys: ['AIza1', 'AIza2'] });
    for (const keys of [5, '', '   ', [], ['ok', ''], ['ok', 3], null, { a: 1 }]) {
      expect(await messageOf(check(AddPoolKeysDto, { keys }))).toMatch(/^keys must be a non-empty string/);
    }
    expect(await messageOf(check(AddPoolKeysDto, {}))).toMatch(/keys must be/);
  });

  it('refuses unknown properties with their name', async () => {
    expect(await messageOf(check(LoginDto, { username: 'a', password: 'b', admin: true }))).toBe('property admin should not exist');
  });

  it('checks users: username shape, password length, role', async () => {
    await expect(check(CreateUserDto, { username: 'bob', password: 'longenough', role: 'user' })).resolves.toBeInstanceOf(CreateUserDto);
    expect(await messageOf(check(CreateUserDto, { username: 'bob', password: 'longenough', role: 'root' }))).toBe('role must be "admin" or "user"');
    expect(await messageOf(check(CreateUserDto, { username: 'b', password: 'longenough', role: 'user' }))).toMatch(/^username must be 3-64/);
    expect(await messageOf(check(CreateUserDto, { username: 'bob', password: 'short', role: 'user' }))).toBe('password must be at least 8 characters');
    expect(await messageOf(check(UpdateUserDto, { isActive: 'yes' }))).toBe('isActive must be true or false');
    await expect(check(UpdateUserDto, {})).resolves.toBeInstanceOf(UpdateUserDto);
    expect(await messageOf(check(ChangePasswordDto, { currentPassword: 'x', newPassword: 'short' }))).toMatch(/newPassword must be at least 8/);
  });

  it('checks user keys: a name, an ISO expiry or none', async () => {
    await expect(check(CreateAuthKeyDto, { name: 'ci', expiresAt: '2030-01-01T00:00:00Z' })).resolves.toBeDefined();
    await expect(check(CreateAuthKeyDto, { name: 'ci', expiresAt: null })).resolves.toBeDefined();
    expect(await messageOf(check(CreateAuthKeyDto, { name: '' }))).toBe('name must be 1-100 characters');
    expect(await messageOf(check(CreateAuthKeyDto, { name: 'ci', expiresAt: 'tomorrow' }))).toMatch(/^expiresAt must be an ISO 8601/);
    expect(await messageOf(check(ListAuthKeysQuery, { userId: '../x' }, 'query'))).toBe('userId is not a valid id');
  });

  it('turns log query strings into numbers and refuses nonsense', async () => {
    const q = (await check(LogsQueryDto, { limit: '50', status: '429', since: '2030-01-01T00:00:00Z' }, 'query')) as LogsQueryDto;
    expect(q.limit).toBe(50);
    expect(q.status).toBe(429);
    expect(await messageOf(check(LogsQueryDto, { limit: 'abc' }, 'query'))).toMatch(/limit must be an integer/);
    expect(await messageOf(check(LogsQueryDto, { status: '42' }, 'query'))).toBe('status must be an HTTP status code');
    expect(await messageOf(check(LogsQueryDto, { userId: 'someone' }, 'query'))).toBe('property userId should not exist');
  });

  it('defaults the stats window to 24h and allows only 1h, 24h, 7d', async () => {
    expect(((await check(StatsQueryDto, {}, 'query')) as StatsQueryDto).window).toBe('24h');
    expect(((await check(StatsQueryDto, { window: '7d' }, 'query')) as StatsQueryDto).window).toBe('7d');
    expect(await messageOf(check(StatsQueryDto, { window: '2d' }, 'query'))).toBe('window must be one of 1h, 24h, 7d');
  });

  it('checks ids in the path', async () => {
    await expect(check(IdParamDto, { id: '6f1c2a9e-1b2c-4d5e-8f90-0123456789ab' }, 'param')).resolves.toBeDefined();
    expect(await messageOf(check(IdParamDto, { id: 'a b' }, 'param'))).toMatch(/^id must be 1-64 characters/);
  });
});
