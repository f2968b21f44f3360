import { type ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { ProbesController } from '@gg/nest-common';
import type { Observable } from 'rxjs';
import { IS_PUBLIC_KEY } from './decorators';

/** Global: every HTTP route needs a valid access token unless it is `@Public()`. Probes and events are open. */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override canActivate(ctx: ExecutionContext): boolean | Promise<boolean> | Observable<boolean> {
    if (ctx.getType() !== 'http') return true;
    if (ctx.getClass() === ProbesController) return true;
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, [ctx.getHandler(), ctx.getClass()])) return true;
    return super.canActivate(ctx);
  }

  override handleRequest<TUser>(err: unknown, user: TUser | false, info: unknown): TUser {
    if (err || !user) {
      const expired = (info as { name?: string } | undefined)?.name === 'TokenExpiredError';
      throw new UnauthorizedException(expired ? 'access token expired' : 'missing or invalid access token');
    }
    return user;
  }
}
