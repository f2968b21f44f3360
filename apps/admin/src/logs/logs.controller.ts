import { Controller, Get, Query, Req, Res } from '@nestjs/common';
import { AuthPattern, type Caller, type LogsQueryRequest, type Page, type RequestLog } from '@gg/contracts';
import { RpcClient } from '@gg/nest-common';
import type { Request, Response } from 'express';
import { AuthCaller, CheckedByAuth } from '../security/decorators';
import { userScope } from '../security/scope';
import { LogStreamService } from './log-stream.service';
import { LogsQueryDto } from './logs.dto';

/** `/api/logs`: the request log, a user's own only (admins: everyone's). */
@Controller('logs')
export class LogsController {
  constructor(
    private readonly rpc: RpcClient,
    private readonly logStream: LogStreamService,
  ) {}

  @Get()
  @CheckedByAuth()
  query(@AuthCaller() caller: Caller, @Query() query: LogsQueryDto): Promise<Page<RequestLog>> {
    return this.rpc.send<Page<RequestLog>>(AuthPattern.LogsQuery, {
      caller,
      query: { ...query, userId: userScope(caller, undefined) },
    } satisfies LogsQueryRequest);
  }

  /** `text/event-stream`; the token may come as `?access_token=` here, since EventSource cannot send headers. */
  @Get('stream')
  stream(@AuthCaller() caller: Caller, @Req() req: Request, @Res() res: Response): void {
    this.logStream.stream(caller, req, res);
  }
}
