import { Body, Controller, ForbiddenException, HttpCode, Post } from '@nestjs/common';
import type { AuthUser } from '../security/auth-user';
import { AuthCaller } from '../security/decorators';
import { StreamTicketStore, TICKET_TTL_SECONDS } from './stream-ticket.store';
import { StreamTicketDto } from './streams.dto';

/** `POST /api/streams/ticket`: a single-use ticket for `GET /api/logs/stream` or `/api/service-logs/stream`. */
@Controller('streams')
export class StreamsController {
  constructor(private readonly tickets: StreamTicketStore) {}

  @Post('ticket')
  @HttpCode(200)
  async ticket(
    @AuthCaller() caller: AuthUser,
    @Body() { stream }: StreamTicketDto,
  ): Promise<{ ticket: string; expiresIn: number }> {
    if (stream === 'service-logs' && caller.role !== 'admin') throw new ForbiddenException('this needs the admin role');
    return { ticket: await this.tickets.issue(caller, stream), expiresIn: TICKET_TTL_SECONDS };
  }
}
