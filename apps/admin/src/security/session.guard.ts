import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthPattern, type Caller, type CallerRequest } from '@gg/contracts';
import { RpcClient } from '@gg/nest-common';
import type { Request } from 'express';
import type { AuthUser } from './auth-user';
import { CHECKED_BY_AUTH_KEY, IS_PUBLIC_KEY } from './decorators';

/**
 * Global, after the JWT and role guards: a valid signature is not enough, the session must still be live. For
 * routes that do not pass the caller to auth anyway (pool keys, the log stream, service logs), one RPC asks auth
 * whether the user still exists, is active, has that role and is at the token's version, so a deactivation or
 * a password change ends every access token at once, not when it expires (401 from auth otherwise).
 */
@Injectable()
export class SessionGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly rpc: RpcClient,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (ctx.getType() !== 'http') return true;
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, targets)) return true;
    if (this.reflector.getAllAndOverride<boolean>(CHECKED_BY_AUTH_KEY, targets)) return true;
    const user = ctx.switchToHttp().getRequest<Request>().user as AuthUser | undefined;
    if (!user) return true; // the probes: the JWT guard let them through without a user
    await checkSession(this.rpc, user);
    return true;
  }
}

/** Throws (UNAUTHORIZED from auth, or UNAVAILABLE) unless auth still accepts this caller. */
export async function checkSession(rpc: RpcClient, user: Caller): Promise<void> {
  const caller: Caller = { userId: user.userId, role: user.role, tokenVersion: user.tokenVersion };
  await rpc.send<unknown>(AuthPattern.Me, { caller } satisfies CallerRequest);
}
