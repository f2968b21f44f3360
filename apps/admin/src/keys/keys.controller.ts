import { Controller, Delete, Get, HttpCode, Param, Post, Req } from '@nestjs/common';
import {
  AuditAction,
  PoolPattern,
  addPoolKeysSchema,
  type AddPoolKeysInput,
  type AddPoolKeysRequest,
  type AddPoolKeysResult,
  type KeyCheckResult,
  type PoolKey,
  type PoolKeyIdRequest,
} from '@gg/contracts';
import type { Request } from 'express';
import { AuditRecorder } from '../audit/audit-recorder.service';
import { IdParamDto } from '../common/id-param.dto';
import type { AuthUser } from '../security/auth-user';
import { CallerRpc } from '../security/caller-rpc';
import { AuthCaller, Roles } from '../security/decorators';
import { ZodBody } from '@gg/nest-common';
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
