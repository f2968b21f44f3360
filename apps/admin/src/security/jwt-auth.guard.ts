import { type ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { ProbesController } from '@gg/nest-common';
import type { Observable } from 'rxjs';
import { STREAM_TICKET, type WithStreamTicket } from '../http/stream-token';
import { StreamTicketStore, type StreamName } from '../streams/stream-ticket.store';
import { IS_PUBLIC_KEY, STREAM_TICKET_KEY } from './decorators';

/**
 * Global: every HTTP route needs a valid access token (`Authorization: Bearer`) unless it is `@Public()`; a
 * `@StreamTicket()` route also takes a single-use `?ticket=` of its stream instead. Probes and events are open.
 */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  constructor(
    private readonly reflector: Reflector,
    private readonly tickets: StreamTicketStore,
  ) {
    super();
  }

  override canActivate(ctx: ExecutionContext): boolean | Promise<boolean> | Observable<boolean> {
    if (ctx.getType() !== 'http') return true;
    if (ctx.getClass() === ProbesController) return true;
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, [ctx.getHandler(), ctx.getClass()])) return true;
    const stream = this.reflector.get<StreamName | undefined>(STREAM_TICKET_KEY, ctx.getHandler());
    const req = ctx.switchToHttp().getRequest<WithStreamTicket>();
    const ticket = req[STREAM_TICKET];
    if (stream && ticket) return this.redeem(req, ticket, stream);
    return super.canActivate(ctx);
  }

  override handleRequest<TUser>(err: unknown, user: TUser | false, info: unknown): TUser {
    if (err || !user) {
      const expired = (info as { name?: string } | undefined)?.name === 'TokenExpiredError';
      throw new UnauthorizedException(expired ? 'access token expired' : 'missing or invalid access token');
    }
    return user;
  }

  private async redeem(req: WithStreamTicket, ticket: string, stream: StreamName): Promise<boolean> {
    const user = await this.tickets.redeem(ticket, stream);
    if (!user) throw new UnauthorizedException('invalid, used or expired stream ticket');
    req.user = user;
    return true;
  }
}
