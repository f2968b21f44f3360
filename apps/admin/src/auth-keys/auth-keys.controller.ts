import { Controller, Delete, Get, HttpCode, Param, Patch, Post, Req } from '@nestjs/common';
import {
  AUDIT_SECRET_CHANGED,
  AuditAction,
  AuthPattern,
  createAuthKeySchema,
  listAuthKeysQuerySchema,
  rotateAuthKeySchema,
  updateAuthKeySchema,
  type CreateAuthKeyInput,
  type RotateAuthKeyInput,
  type UpdateAuthKeyInput,
  type AuthKey,
  type AuthKeyWithSecret,
  type CreateKeyRequest,
  type IdRequest,
  type ListKeysRequest,
  type RotateKeyRequest,
  type UpdateKeyRequest,
} from '@gg/contracts';
import type { Request } from 'express';
import { AuditRecorder, type AuditAction as AuditedAction } from '../audit/audit-recorder.service';
import { IdParamDto } from '../common/id-param.dto';
import type { AuthUser } from '../security/auth-user';
import { CallerRpc } from '../security/caller-rpc';
import { AuthCaller, CheckedByAuth } from '../security/decorators';
import { userScope } from '../security/scope';
import { ZodBody, ZodQuery } from '@gg/nest-common';
import { ApiZodBody, ApiZodQuery } from '../http/zod-openapi';

/**
 * `/api/auth-keys`: the caller's own user API keys (auth answers 404 for another user's key to a non-admin). An
 * admin acting on another user's key is audited; anyone's changes to their own keys are not admin actions.
 */
@Controller('auth-keys')
@CheckedByAuth()
export class AuthKeysController {
  constructor(
    private readonly rpc: CallerRpc,
    private readonly audit: AuditRecorder,
  ) {}

  /**
   * Whether a change to key `id` by this caller is an admin acting on someone else's key: asked before the change
   * (a deleted key can no longer say whose it was), only for admins, from the admin's own keys.
   */
  private async actsOnOthersKey(caller: AuthUser, id: string): Promise<boolean> {
    if (caller.role !== 'admin') return false;
    const own = await this.rpc.send<AuthKey[]>(
      caller,
      AuthPattern.KeysList,
      {} satisfies Omit<ListKeysRequest, 'proof'>,
    );
    return !own.some((k) => k.id === id);
  }

  private async recordIf(audited: boolean, caller: AuthUser, req: Request, action: AuditedAction): Promise<void> {
    if (audited) await this.audit.record(caller, req, action);
  }

  @Get()
  @ApiZodQuery(listAuthKeysQuerySchema)
  list(
    @AuthCaller() caller: AuthUser,
    @ZodQuery(listAuthKeysQuerySchema) query: { userId?: string },
  ): Promise<AuthKey[]> {
    return this.rpc.send<AuthKey[]>(caller, AuthPattern.KeysList, {
      userId: userScope(caller, query.userId),
    } satisfies Omit<ListKeysRequest, 'proof'>);
  }

  @Post()
  @ApiZodBody(createAuthKeySchema)
  create(
    @AuthCaller() caller: AuthUser,
    @ZodBody(createAuthKeySchema) body: CreateAuthKeyInput,
  ): Promise<AuthKeyWithSecret> {
    return this.rpc.send<AuthKeyWithSecret>(caller, AuthPattern.KeysCreate, { ...body } satisfies Omit<
      CreateKeyRequest,
      'proof'
    >);
  }

  @Patch(':id')
  @ApiZodBody(updateAuthKeySchema)
  async update(
    @AuthCaller() caller: AuthUser,
    @Param() { id }: IdParamDto,
    @ZodBody(updateAuthKeySchema) body: UpdateAuthKeyInput,
    @Req() req: Request,
  ): Promise<AuthKey> {
    const audited = await this.actsOnOthersKey(caller, id);
    const key = await this.rpc.send<AuthKey>(caller, AuthPattern.KeysUpdate, { id, ...body } satisfies Omit<
      UpdateKeyRequest,
      'proof'
    >);
    // every field of the body is a setting, none a secret
    const changes = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined)) as Record<
      string,
      string | number | boolean | string[] | null
    >;
    await this.recordIf(audited, caller, req, {
      action: AuditAction.UserKeyUpdate,
      targetType: 'user-key',
      targetId: id,
      targetName: key.name,
      changes,
    });
    return key;
  }

  @Post(':id/rotate')
  @HttpCode(200)
  @ApiZodBody(rotateAuthKeySchema)
  async rotate(
    @AuthCaller() caller: AuthUser,
    @Param() { id }: IdParamDto,
    @ZodBody(rotateAuthKeySchema) body: RotateAuthKeyInput,
    @Req() req: Request,
  ): Promise<AuthKeyWithSecret> {
    const audited = await this.actsOnOthersKey(caller, id);
    const key = await this.rpc.send<AuthKeyWithSecret>(caller, AuthPattern.KeysRotate, {
      id,
      graceSeconds: body?.graceSeconds,
    } satisfies Omit<RotateKeyRequest, 'proof'>);
    await this.recordIf(audited, caller, req, {
      action: AuditAction.UserKeyRotate,
      targetType: 'user-key',
      targetId: id,
      targetName: key.name,
      changes: { secret: AUDIT_SECRET_CHANGED, graceSeconds: body?.graceSeconds ?? 0 },
    });
    return key;
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@AuthCaller() caller: AuthUser, @Param() { id }: IdParamDto, @Req() req: Request): Promise<void> {
    const audited = await this.actsOnOthersKey(caller, id);
    await this.rpc.send<unknown>(caller, AuthPattern.KeysDelete, { id } satisfies Omit<IdRequest, 'proof'>);
    await this.recordIf(audited, caller, req, {
      action: AuditAction.UserKeyDelete,
      targetType: 'user-key',
      targetId: id,
      targetName: null,
      changes: null,
    });
  }
}
