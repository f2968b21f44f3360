import { Controller, UseGuards } from '@nestjs/common';
import {
  AuthPattern,
  logsQueryRequestSchema,
  statsRequestSchema,
  type Page,
  type RequestLog,
  type Stats,
} from '@gg/contracts';
import { NsMessagePattern, ZodPayload } from '@gg/nest-common';
import { CallerGuard } from '../common/caller.guard';
import type { LogsQueryDto, StatsDto } from './logs.dto';
import { LogsService } from './logs.service';

@Controller()
@UseGuards(CallerGuard)
export class LogsController {
  constructor(private readonly logs: LogsService) {}

  @NsMessagePattern(AuthPattern.LogsQuery)
  query(@ZodPayload(logsQueryRequestSchema) req: LogsQueryDto): Promise<Page<RequestLog>> {
    return this.logs.query(req.caller, req.query);
  }

  @NsMessagePattern(AuthPattern.Stats)
  stats(@ZodPayload(statsRequestSchema) req: StatsDto): Promise<Stats> {
    return this.logs.stats(req.caller, req.window);
  }
}
