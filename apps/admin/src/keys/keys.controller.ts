import { Controller, Delete, Get, HttpCode, Param, Patch, Post, Req } from '@nestjs/common';
import {
  AuditAction,
  PoolPattern,
  addPoolKeysSchema,
  updatePoolKeySchema,
  type AddPoolKeysInput,
  type BindProxyRequest,
  type AddPoolKeysRequest,
  type AddPoolKeysResult,
  type KeyCheckResult,
  type PoolKey,
  type PoolKeyIdRequest,
  type UpdatePoolKeyInput,
} from '@gg/contracts';
import type { Request } from 'express';
import { AuditRecorder } from '../audit/audit-recorder.service';
import { IdParamDto } from '../common/id-param.dto';
import type { AuthUser } from '../security/auth-user';
import { CallerRpc } from '../security/caller-rpc';
import { AuthCaller, Roles } from '../security/decorators';
import { DomainError, ZodBody } from '@gg/nest-common';
import { ApiZodBody } from '../http/zod-openapi';

/** A key check makes one real upstream call: give it longer than the default RPC timeout. */
const CHECK_TIMEOUT_MS = 30_000;
/** How many added keys an audit entry lists (ids and masked forms); the counts are always complete. */
const AUDIT_LIST_MAX = 100;

/**
 * `/api/keys`: the Gemini key pool, admin only (key-pool also wants the admin's caller proof). Every change is
 * audited, a key named by its masked form only.
 */
@Controller('keys')
@Roles('admin')
export class KeysController {
  constructor(
    private readonly rpc: CallerRpc,
    private readonly audit: AuditRecorder,
  ) {}

  @Get()
  list(@AuthCaller() caller: AuthUser): Promise<PoolKey[]> {
    return this.rpc.send<PoolKey[]>(caller, PoolPattern.List);
  }

  @Post()
  @ApiZodBody(addPoolKeysSchema)
  async add(
    @AuthCaller() caller: AuthUser,
    @ZodBody(addPoolKeysSchema) body: AddPoolKeysInput,
    @Req() req: Request,
  ): Promise<AddPoolKeysResult> {
    const result = await this.rpc.send<AddPoolKeysResult>(caller, PoolPattern.Add, {
      keys: body.keys,
    } satisfies AddPoolKeysRequest);
    const only = result.added.length === 1 ? result.added[0] : undefined;
    await this.audit.record(caller, req, {
      action: AuditAction.PoolKeyAdd,
      targetType: 'pool-key',
      targetId: only?.id ?? null,
      targetName: only?.masked ?? null,
      changes: {
        added: result.added.length,
        duplicates: result.duplicates,
        invalid: result.invalid,
        ids: result.added.slice(0, AUDIT_LIST_MAX).map((k) => k.id),
        masked: result.added.slice(0, AUDIT_LIST_MAX).map((k) => k.masked),
      },
    });
    return result;
  }

  @Post('reset')
  @HttpCode(200)
  async resetAll(@AuthCaller() caller: AuthUser, @Req() req: Request): Promise<unknown> {
    const result = await this.rpc.send<unknown>(caller, PoolPattern.ResetAll);
    await this.audit.record(caller, req, {
      action: AuditAction.PoolResetAll,
      targetType: 'pool',
      targetId: null,
      targetName: null,
      changes: null,
    });
    return result;
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@AuthCaller() caller: AuthUser, @Param() { id }: IdParamDto, @Req() req: Request): Promise<void> {
    const name = await this.audit.poolKeyName(caller, id);
    await this.rpc.send<unknown>(caller, PoolPattern.Delete, { id } satisfies PoolKeyIdRequest);
    await this.audit.record(caller, req, {
      action: AuditAction.PoolKeyDelete,
      targetType: 'pool-key',
      targetId: id,
      targetName: name,
      changes: null,
    });
  }

  /** `{proxyId}`: the key's proxy of the list; null: back to consistent hashing; absent: nothing changes. */
  @Patch(':id')
  @ApiZodBody(updatePoolKeySchema)
  async update(
    @AuthCaller() caller: AuthUser,
    @Param() { id }: IdParamDto,
    @ZodBody(updatePoolKeySchema) body: UpdatePoolKeyInput,
    @Req() req: Request,
  ): Promise<PoolKey> {
    if (body.proxyId === undefined) {
      const keys = await this.rpc.send<PoolKey[]>(caller, PoolPattern.List);
      const key = keys.find((k) => k.id === id);
      if (!key) throw DomainError.notFound('pool key not found');
      return key;
    }
    const key = await this.rpc.send<PoolKey>(caller, PoolPattern.Bind, {
      id,
      proxyId: body.proxyId,
    } satisfies BindProxyRequest);
    await this.audit.record(caller, req, {
      action: AuditAction.PoolKeyBind,
      targetType: 'pool-key',
      targetId: id,
      targetName: key.masked,
      // the proxy by id, and by masked URL while it carries the key (null: back to consistent hashing)
      changes: { proxyId: body.proxyId, proxy: key.proxy?.binding === 'explicit' ? key.proxy.url : null },
    });
    return key;
  }

  @Post(':id/reset')
  @HttpCode(200)
  async reset(@AuthCaller() caller: AuthUser, @Param() { id }: IdParamDto, @Req() req: Request): Promise<unknown> {
    const result = await this.rpc.send<unknown>(caller, PoolPattern.Reset, { id } satisfies PoolKeyIdRequest);
    await this.audit.record(caller, req, {
      action: AuditAction.PoolKeyReset,
      targetType: 'pool-key',
      targetId: id,
      targetName: await this.audit.poolKeyName(caller, id),
      changes: null,
    });
    return result;
  }

  @Post(':id/check')
  @HttpCode(200)
  async check(
    @AuthCaller() caller: AuthUser,
    @Param() { id }: IdParamDto,
    @Req() req: Request,
  ): Promise<KeyCheckResult> {
    const result = await this.rpc.send<KeyCheckResult>(
      caller,
      PoolPattern.Check,
      { id } satisfies PoolKeyIdRequest,
      CHECK_TIMEOUT_MS,
    );
    // a check changes the key's state (a failing key is cooled down or disabled, a passing one restored)
    await this.audit.record(caller, req, {
      action: AuditAction.PoolKeyCheck,
      targetType: 'pool-key',
      targetId: id,
      targetName: await this.audit.poolKeyName(caller, id),
      changes: { ok: result.ok, status: result.status },
    });
    return result;
  }
}
