import { type CanActivate, type ExecutionContext, ForbiddenException, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Role } from '@gg/contracts';
import type { Request } from 'express';
import type { AuthUser } from './auth-user';
import { ROLES_KEY } from './decorators';

/** Global, after the JWT guard: a route marked `@Roles(...)` answers 403 to any other role. */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(ctx: ExecutionContext): boolean {
    if (ctx.getType() !== 'http') return true;
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, [ctx.getHandler(), ctx.getClass()]);
    if (!roles || roles.length === 0) return true;
    const user = ctx.switchToHttp().getRequest<Request>().user as AuthUser | undefined;
    if (user && roles.includes(user.role)) return true;
    throw new ForbiddenException(`this needs the ${roles.join(' or ')} role`);
  }
}
