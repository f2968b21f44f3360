import { type ExecutionContext, ForbiddenException, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { AppConfig } from '@gg/config';
import { DomainError, ProbesController, type RpcClient } from '@gg/nest-common';
import type { StreamTicketStore } from '../streams/stream-ticket.store';
import { CallerRpc } from './caller-rpc';
import { SessionLiveness } from './session-liveness.service';
import jwt from 'jsonwebtoken';
import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER } from './auth-user';
import { CheckedByAuth, Public, Roles } from './decorators';
import { SessionGuard } from './session.guard';
import { JwtAuthGuard } from './jwt-auth.guard';
import { JwtStrategy } from './jwt.strategy';
import { RolesGuard } from './roles.guard';

const SECRET = 'unit-test-secret-unit-test-secret-0123456789';

class Routes {
  @Public()
  open(): void {}
  closed(): void {}
  @Roles('admin')
  adminOnly(): void {}
}

type FakeReq = { headers: Record<string, string>; user?: unknown };

function http(req: FakeReq, handler: keyof Routes, cls: object = Routes): ExecutionContext {
  return {
    getType: () => 'http',
    getClass: () => cls,
    getHandler: () => Routes.prototype[handler],
    switchToHttp: () => ({ getRequest: () => req, getResponse: () => ({}), getNext: () => undefined }),
    getArgs: () => [req, {}],
    getArgByIndex: (i: number) => [req, {}][i],
  } as unknown as ExecutionContext;
}

function sign(claims: object, options: jwt.SignOptions = {}, secret = SECRET): string {
  return jwt.sign(claims, secret, {
    algorithm: 'HS256',
    issuer: ACCESS_TOKEN_ISSUER,
    audience: ACCESS_TOKEN_AUDIENCE,
    expiresIn: 60,
    ...options,
  });
}

const alice = { sub: 'u-1', username: 'alice', role: 'user', tv: 1, sid: 's-1' };

describe('JwtAuthGuard', () => {
  new JwtStrategy({ jwtSecret: SECRET, accessTokenTtlSeconds: 900 } as AppConfig); // registers the 'jwt' passport strategy
  const guard = new JwtAuthGuard(new Reflector(), {} as StreamTicketStore);

  async function attempt(token: string | undefined, handler: keyof Routes = 'closed'): Promise<FakeReq> {
    const req: FakeReq = { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } };
    await guard.canActivate(http(req, handler));
    return req;
  }

  it('lets a valid token through and puts the caller on the request', async () => {
    const req = await attempt(sign(alice));
    expect(req.user).toEqual({ userId: 'u-1', role: 'user', tokenVersion: 1, sessionId: 's-1', username: 'alice' });
  });

  it('opens @Public() routes, the probes and non-HTTP handlers without a token', async () => {
    await expect(attempt(undefined, 'open')).resolves.toBeDefined();
    expect(await guard.canActivate(http({ headers: {} }, 'closed', ProbesController))).toBe(true);
    expect(await guard.canActivate({ getType: () => 'rpc' } as unknown as ExecutionContext)).toBe(true);
  });

  it.each([
    ['no token', undefined],
    [
      'alg none',
      jwt.sign(alice, '', { algorithm: 'none', issuer: ACCESS_TOKEN_ISSUER, audience: ACCESS_TOKEN_AUDIENCE }),
    ],
    ['another secret', sign(alice, {}, 'another-secret-another-secret-0123456789')],
    ['HS512', sign(alice, { algorithm: 'HS512' })],
    ['wrong audience', sign(alice, { audience: 'gemini-gateway' })],
    ['wrong issuer', sign(alice, { issuer: 'someone-else' })],
    ['an unknown role', sign({ ...alice, role: 'root' })],
    ['no subject', sign({ username: 'alice', role: 'user', tv: 1 })],
    ['no token version', sign({ sub: 'u-1', username: 'alice', role: 'user', sid: 's-1' })],
    ['no session id', sign({ sub: 'u-1', username: 'alice', role: 'user', tv: 1 })],
    [
      'no exp',
      jwt.sign(alice, SECRET, { algorithm: 'HS256', issuer: ACCESS_TOKEN_ISSUER, audience: ACCESS_TOKEN_AUDIENCE }),
    ],
    [
      'no iat',
      jwt.sign({ ...alice, exp: Math.floor(Date.now() / 1000) + 60 }, SECRET, {
        noTimestamp: true,
        issuer: ACCESS_TOKEN_ISSUER,
        audience: ACCESS_TOKEN_AUDIENCE,
      }),
    ],
    ['a lifetime longer than the access token TTL', sign(alice, { expiresIn: 86_400 })],
    ['no audience', jwt.sign(alice, SECRET, { algorithm: 'HS256', issuer: ACCESS_TOKEN_ISSUER, expiresIn: 60 })],
  ])('refuses %s with 401', async (_name, token) => {
    await expect(attempt(token)).rejects.toThrow(new UnauthorizedException('missing or invalid access token'));
  });

  it('says when the token has expired, so the SPA knows to refresh', async () => {
    const expired = sign(alice, { expiresIn: -10 });
    await expect(attempt(expired)).rejects.toThrow(new UnauthorizedException('access token expired'));
  });
});

describe('SessionGuard', () => {
  class FakeRpc {
    readonly sent: unknown[] = [];
    answer: () => Promise<unknown> = async () => ({});
    send(_pattern: string, data: unknown): Promise<unknown> {
      this.sent.push(data);
      return this.answer();
    }
  }
  class Checked {
    @CheckedByAuth()
    viaAuth(): void {}
    direct(): void {}
  }
  const ctx = (req: FakeReq, handler: 'viaAuth' | 'direct'): ExecutionContext =>
    ({
      getType: () => 'http',
      getClass: () => Checked,
      getHandler: () => Checked.prototype[handler],
      switchToHttp: () => ({ getRequest: () => req }),
    }) as unknown as ExecutionContext;
  const user = { userId: 'u-1', role: 'admin', tokenVersion: 3, sessionId: 's-9', username: 'root' };
  const config = { jwtSecret: SECRET, redisNamespace: 'ns' } as AppConfig;
  const setup = () => {
    const rpc = new FakeRpc();
    const liveness = new SessionLiveness(new CallerRpc(config, rpc as unknown as RpcClient));
    return { rpc, liveness, guard: new SessionGuard(new Reflector(), liveness) };
  };

  it('asks auth about the session with a caller proof (no bare caller), and lets 401 from auth through', async () => {
    const { rpc, guard } = setup();
    expect(await guard.canActivate(ctx({ headers: {}, user }, 'direct'))).toBe(true);
    expect(rpc.sent).toEqual([{ proof: expect.stringMatching(/^[\w-]+\.[\w-]+$/) }]);
    rpc.answer = () => Promise.reject(DomainError.unauthorized('session is no longer valid; please log in again'));
    await new Promise((r) => setTimeout(r, 550)); // fixed on purpose: outlive the 500 ms belief in the live answer
    await expect(guard.canActivate(ctx({ headers: {}, user }, 'direct'))).rejects.toThrow('session is no longer valid');
  });

  it('believes a live answer for 500 ms only, and shares one check among concurrent requests', async () => {
    const { rpc, guard, liveness } = setup();
    await Promise.all([1, 2, 3].map(() => guard.canActivate(ctx({ headers: {}, user }, 'direct'))));
    expect(rpc.sent).toHaveLength(1);
    await guard.canActivate(ctx({ headers: {}, user }, 'direct'));
    expect(rpc.sent).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 550)); // the 500 ms expiry is the behaviour under test
    await guard.canActivate(ctx({ headers: {}, user }, 'direct'));
    expect(rpc.sent).toHaveLength(2);
    liveness.forget('s-9');
    await guard.canActivate(ctx({ headers: {}, user }, 'direct'));
    expect(rpc.sent).toHaveLength(3);
    liveness.forgetUser('u-1');
    await guard.canActivate(ctx({ headers: {}, user }, 'direct'));
    expect(rpc.sent).toHaveLength(4);
  });

  it('does not ask twice on routes whose handlers send a caller proof to auth anyway', async () => {
    const { rpc, guard } = setup();
    expect(await guard.canActivate(ctx({ headers: {}, user }, 'viaAuth'))).toBe(true);
    expect(rpc.sent).toEqual([]);
  });
});

describe('RolesGuard', () => {
  const guard = new RolesGuard(new Reflector());
  const as = (role: string): FakeReq => ({ headers: {}, user: { userId: 'u-1', role, username: 'x' } });

  it('lets any authenticated role through a route without @Roles', () => {
    expect(guard.canActivate(http(as('user'), 'closed'))).toBe(true);
  });

  it('answers 403 to a user on an admin route and lets an admin through', () => {
    expect(() => guard.canActivate(http(as('user'), 'adminOnly'))).toThrow(ForbiddenException);
    expect(guard.canActivate(http(as('admin'), 'adminOnly'))).toBe(true);
  });
});
