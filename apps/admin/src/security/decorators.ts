import { createParamDecorator, type ExecutionContext, SetMetadata, UnauthorizedException } from '@nestjs/common';
import type { Role } from '@gg/contracts';
import type { Request } from 'express';
import type { AuthUser } from './auth-user';
import type { StreamName } from '../streams/stream-ticket.store';

export const IS_PUBLIC_KEY = 'gg:public';
export const ROLES_KEY = 'gg:roles';

/** The route needs no access token (login, refresh, logout). */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC_KEY, true);

export const CHECKED_BY_AUTH_KEY = 'gg:checked-by-auth';

/**
 * Every handler of this route sends a caller proof to auth, which re-checks the session itself (user active,
 * role, token version, session not ended): SessionGuard need not ask auth a second time.
 */
export const CheckedByAuth = (): MethodDecorator & ClassDecorator => SetMetadata(CHECKED_BY_AUTH_KEY, true);

/** Only these roles may call the route (checked by RolesGuard after the JWT guard); others get 403. */
export const Roles = (...roles: Role[]): MethodDecorator & ClassDecorator => SetMetadata(ROLES_KEY, roles);

function authUser(ctx: ExecutionContext): AuthUser {
  const user = ctx.switchToHttp().getRequest<Request>().user as AuthUser | undefined;
  if (!user) throw new UnauthorizedException('missing or invalid access token');
  return user;
}

/** The authenticated caller (user, role, token version, session): what `CallerRpc` signs proofs for. */
export const AuthCaller = createParamDecorator((_data: unknown, ctx: ExecutionContext): AuthUser => authUser(ctx));

export const STREAM_TICKET_KEY = 'gg:stream-ticket';

/** The route is a live stream: it also authenticates with a single-use `?ticket=` of this stream. */
export const StreamTicket = (stream: StreamName): MethodDecorator => SetMetadata(STREAM_TICKET_KEY, stream);
