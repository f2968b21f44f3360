import { Controller, Get, Query, Req, Res } from '@nestjs/common';
import type { ServiceLogLine } from '@gg/contracts';
import type { Request, Response } from 'express';
import { AuthCaller, Roles, StreamTicket } from '../security/decorators';
import type { AuthUser } from '../security/auth-user';
import { ServiceLogsQueryDto, ServiceLogsStreamQueryDto } from './service-logs.dto';
import { ServiceLogsService } from './service-logs.service';

/** `/api/service-logs`: recent lines of every app's log (secrets redacted at the source). Admins only. */
@Controller('service-logs')
@Roles('admin')
export class ServiceLogsController {
  constructor(private readonly logs: ServiceLogsService) {}

  @Get()
  async recent(@Query() { level, app, requestId, limit }: ServiceLogsQueryDto): Promise<{ items: ServiceLogLine[] }> {
    return { items: await this.logs.recent({ level, app, requestId }, limit ?? 200) };
  }

  /** `text/event-stream`; EventSource cannot send headers: `?ticket=` from `POST /api/streams/ticket`. */
  @Get('stream')
  @StreamTicket('service-logs')
  stream(
    @AuthCaller() caller: AuthUser,
    @Query() { level, app, requestId }: ServiceLogsStreamQueryDto,
    @Req() req: Request,
    @Res() res: Response,
  ): void {
    this.logs.stream(caller, { level, app, requestId }, req, res);
  }
}
