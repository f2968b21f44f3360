import { createParamDecorator, type ExecutionContext, SetMetadata, UnauthorizedException } from '@nestjs/common';
import type { Caller, Role } from '@gg/contracts';
import type { Request } from 'express';
import type { AuthUser } from './auth-user';

export const IS_PUBLIC_KEY = 'gg:public';
export const ROLES_KEY = 'gg:roles';

/** The route needs no access token (login, refresh, logout). */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC_KEY, true);

export const CHECKED_BY_AUTH_KEY = 'gg:checked-by-auth';

/**
 * Every handler of this route sends the caller to auth, which re-checks the session itself (user active, role
 * and token version): SessionGuard need not ask auth a second time.
 */
export const CheckedByAuth = (): MethodDecorator & ClassDecorator => SetMetadata(CHECKED_BY_AUTH_KEY, true);

/** Only these roles may call the route (checked by RolesGuard after the JWT guard); others get 403. */
export const Roles = (...roles: Role[]): MethodDecorator & ClassDecorator => SetMetadata(ROLES_KEY, roles);

function authUser(ctx: ExecutionContext): AuthUser {
  const user = ctx.switchToHttp().getRequest<Request>().user as AuthUser | undefined;
  if (!user) throw new UnauthorizedException('missing or invalid access token');
  return user;
}

/** The caller as auth expects it in every RPC: exactly `{userId, role, tokenVersion}`. */
export const AuthCaller = createParamDecorator((_data: unknown, ctx: ExecutionContext): Caller => {
  const { userId, role, tokenVersion } = authUser(ctx);
  return { userId, role, tokenVersion };
});
