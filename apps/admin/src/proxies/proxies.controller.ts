import { Controller, Delete, Get, HttpCode, Param, Post, Req } from '@nestjs/common';
import {
  AuditAction,
  PoolPattern,
  addProxySchema,
  type AddProxyInput,
  type AddProxyRequest,
  type PoolKeyIdRequest,
  type UpstreamProxy,
} from '@gg/contracts';
import { ZodBody } from '@gg/nest-common';
import type { Request } from 'express';
import { AuditRecorder } from '../audit/audit-recorder.service';
import { IdParamDto } from '../common/id-param.dto';
import { ApiZodBody } from '../http/zod-openapi';
import type { AuthUser } from '../security/auth-user';
import { CallerRpc } from '../security/caller-rpc';
import { AuthCaller, Roles } from '../security/decorators';

/**
 * `/api/proxies`: the upstream proxy list, admin only (owned by key-pool). Answers and audit entries name a proxy by
 * its masked URL: its credentials never leave key-pool but to the gateways, over the sealed transport.
 */
@Controller('proxies')
@Roles('admin')
export class ProxiesController {
  constructor(
    private readonly rpc: CallerRpc,
    private readonly audit: AuditRecorder,
  ) {}

  @Get()
  list(@AuthCaller() caller: AuthUser): Promise<UpstreamProxy[]> {
    return this.rpc.send<UpstreamProxy[]>(caller, PoolPattern.ProxiesList);
  }

  @Post()
  @ApiZodBody(addProxySchema)
  async add(
    @AuthCaller() caller: AuthUser,
    @ZodBody(addProxySchema) body: AddProxyInput,
    @Req() req: Request,
  ): Promise<UpstreamProxy> {
    const proxy = await this.rpc.send<UpstreamProxy>(caller, PoolPattern.ProxiesAdd, {
      url: body.url,
    } satisfies AddProxyRequest);
    await this.audit.record(caller, req, {
      action: AuditAction.ProxyAdd,
      targetType: 'proxy',
      targetId: proxy.id,
      targetName: proxy.url,
      changes: null,
    });
    return proxy;
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@AuthCaller() caller: AuthUser, @Param() { id }: IdParamDto, @Req() req: Request): Promise<void> {
    const proxy = await this.rpc.send<UpstreamProxy>(caller, PoolPattern.ProxiesDelete, {
      id,
    } satisfies PoolKeyIdRequest);
    await this.audit.record(caller, req, {
      action: AuditAction.ProxyDelete,
      targetType: 'proxy',
      targetId: id,
      targetName: proxy.url,
      // the keys bound to it went back to consistent hashing
      changes: { boundKeys: proxy.boundKeys },
    });
  }
}
