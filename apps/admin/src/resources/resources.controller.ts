import { Controller, Get, Query } from '@nestjs/common';
import { ResourcePattern, type ResourceRecord, type ResourcesByUserRequest } from '@gg/contracts';
import { Matches } from 'class-validator';
import type { AuthUser } from '../security/auth-user';
import { CallerRpc } from '../security/caller-rpc';
import { AuthCaller, Roles } from '../security/decorators';

export class ResourcesQueryDto {
  @Matches(/^[A-Za-z0-9_.:-]{1,64}$/, {
    message: 'userId must be 1-64 characters of letters, digits, "_", ".", ":" or "-"',
  })
  userId: string;
}

/**
 * `/api/resources?userId=`: the resources (files, cached contents, batches, …) a user created through the gateway —
 * names, kinds, sizes, pool keys, expiry; never content — so an operator can clean up after a departed user. Admin
 * only; key-pool reads the gateways' records.
 */
@Controller('resources')
@Roles('admin')
export class ResourcesController {
  constructor(private readonly rpc: CallerRpc) {}

  @Get()
  byUser(@AuthCaller() caller: AuthUser, @Query() query: ResourcesQueryDto): Promise<ResourceRecord[]> {
    return this.rpc.send<ResourceRecord[]>(caller, ResourcePattern.ByUser, {
      userId: query.userId,
    } satisfies ResourcesByUserRequest);
  }
}
