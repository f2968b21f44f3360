import { Controller, Get, Req, Res } from '@nestjs/common';
import {
  AuthPattern,
  logsQuerySchema,
  type LogsQueryInput,
  type LogsQueryRequest,
  type Page,
  type RequestLog,
  withRequestId,
} from '@gg/contracts';
import { ZodQuery } from '@gg/nest-common';
import type { Request, Response } from 'express';
import type { AuthUser } from '../security/auth-user';
import { CallerRpc } from '../security/caller-rpc';
import { AuthCaller, CheckedByAuth, StreamTicket } from '../security/decorators';
import { userScope } from '../security/scope';
import { LogStreamService } from './log-stream.service';
import { ApiZodQuery } from '../http/zod-openapi';

/** `/api/logs`: the request log, a user's own only (admins: everyone's). */
@Controller('logs')
export class LogsController {
  constructor(
    private readonly rpc: CallerRpc,
    private readonly logStream: LogStreamService,
  ) {}

  @Get()
  @CheckedByAuth()
  @ApiZodQuery(logsQuerySchema)
  async query(
    @AuthCaller() caller: AuthUser,
    @ZodQuery(logsQuerySchema) query: LogsQueryInput,
  ): Promise<Page<RequestLog>> {
    const page = await this.rpc.send<Page<RequestLog>>(caller, AuthPattern.LogsQuery, {
      query: { ...query, userId: userScope(caller, undefined) },
    } satisfies Omit<LogsQueryRequest, 'proof'>);
    return { ...page, items: page.items.map(withRequestId) };
  }

  /** `text/event-stream`; EventSource cannot send headers: `?ticket=` from `POST /api/streams/ticket`. */
  @Get('stream')
  @StreamTicket('logs')
  stream(@AuthCaller() caller: AuthUser, @Req() req: Request, @Res() res: Response): void {
    this.logStream.stream(caller, req, res);
  }
}
