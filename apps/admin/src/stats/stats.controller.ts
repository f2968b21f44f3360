import { Controller, Get, Query } from '@nestjs/common';
import { AuthPattern, type Stats, type StatsRequest } from '@gg/contracts';
import type { AuthUser } from '../security/auth-user';
import { CallerRpc } from '../security/caller-rpc';
import { AuthCaller, CheckedByAuth } from '../security/decorators';
import { StatsQueryDto } from './stats.dto';

/** `/api/stats`: dashboard time series (auth scopes them to the caller's own keys for non-admins). */
@Controller('stats')
@CheckedByAuth()
export class StatsController {
  constructor(private readonly rpc: CallerRpc) {}

  @Get()
  stats(@AuthCaller() caller: AuthUser, @Query() query: StatsQueryDto): Promise<Stats> {
    return this.rpc.send<Stats>(caller, AuthPattern.Stats, { window: query.window } satisfies Omit<StatsRequest, 'proof'>);
  }
}
