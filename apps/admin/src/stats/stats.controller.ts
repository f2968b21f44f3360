import { Controller, Get } from '@nestjs/common';
import { AuthPattern, statsQuerySchema, type Stats, type StatsQueryInput, type StatsRequest } from '@gg/contracts';
import { ZodQuery } from '@gg/nest-common';
import { ApiZodQuery } from '../http/zod-openapi';
import type { AuthUser } from '../security/auth-user';
import { CallerRpc } from '../security/caller-rpc';
import { AuthCaller, CheckedByAuth } from '../security/decorators';

/** `/api/stats`: dashboard time series (auth scopes them to the caller's own keys for non-admins). */
@Controller('stats')
@CheckedByAuth()
export class StatsController {
  constructor(private readonly rpc: CallerRpc) {}

  @Get()
  @ApiZodQuery(statsQuerySchema)
  stats(@AuthCaller() caller: AuthUser, @ZodQuery(statsQuerySchema) query: StatsQueryInput): Promise<Stats> {
    return this.rpc.send<Stats>(caller, AuthPattern.Stats, { window: query.window } satisfies Omit<
      StatsRequest,
      'proof'
    >);
  }
}
