import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import type { AuthUser } from './auth-user';
import { CHECKED_BY_AUTH_KEY, IS_PUBLIC_KEY } from './decorators';
import { SessionLiveness } from './session-liveness.service';

/**
 * Global, after the JWT and role guards: a valid signature is not enough, the session must still be live. Routes
 * whose handlers send a caller proof to auth anyway are checked there; for the others (pool keys, the streams,
 * service logs, stream tickets) SessionLiveness asks auth (at most every 500 ms per session), so a logout,
 * refresh-token reuse, password change, role change or deactivation refuses the token within a second.
 */
@Injectable()
export class SessionGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly sessions: SessionLiveness,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (ctx.getType() !== 'http') return true;
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, targets)) return true;
    if (this.reflector.getAllAndOverride<boolean>(CHECKED_BY_AUTH_KEY, targets)) return true;
    const user = ctx.switchToHttp().getRequest<Request>().user as AuthUser | undefined;
    if (!user) return true; // the probes: the JWT guard let them through without a user
    await this.sessions.assertLive(user);
    return true;
  }
}
