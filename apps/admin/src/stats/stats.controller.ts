import { Controller, Get, Query } from '@nestjs/common';
import { AuthPattern, type Caller, type Stats, type StatsRequest } from '@gg/contracts';
import { RpcClient } from '@gg/nest-common';
import { AuthCaller, CheckedByAuth } from '../security/decorators';
import { StatsQueryDto } from './stats.dto';

/** `/api/stats`: dashboard time series (auth scopes them to the caller's own keys for non-admins). */
@Controller('stats')
@CheckedByAuth()
export class StatsController {
  constructor(private readonly rpc: RpcClient) {}

  @Get()
  stats(@AuthCaller() caller: Caller, @Query() query: StatsQueryDto): Promise<Stats> {
    return this.rpc.send<Stats>(AuthPattern.Stats, { caller, window: query.window } satisfies StatsRequest);
  }
}
