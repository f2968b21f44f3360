import { Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import {
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
import { IdParamDto } from '../common/id-param.dto';
import type { AuthUser } from '../security/auth-user';
import { CallerRpc } from '../security/caller-rpc';
import { AuthCaller, CheckedByAuth } from '../security/decorators';
import { userScope } from '../security/scope';
import { ZodBody, ZodQuery } from '@gg/nest-common';
import { ApiZodBody, ApiZodQuery } from '../http/zod-openapi';

/** `/api/auth-keys`: the caller's own user API keys (auth answers 404 for another user's key). */
@Controller('auth-keys')
@CheckedByAuth()
export class AuthKeysController {
  constructor(private readonly rpc: CallerRpc) {}

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
  update(
    @AuthCaller() caller: AuthUser,
    @Param() { id }: IdParamDto,
    @ZodBody(updateAuthKeySchema) body: UpdateAuthKeyInput,
  ): Promise<AuthKey> {
    return this.rpc.send<AuthKey>(caller, AuthPattern.KeysUpdate, { id, ...body } satisfies Omit<
      UpdateKeyRequest,
      'proof'
    >);
  }

  @Post(':id/rotate')
  @HttpCode(200)
  @ApiZodBody(rotateAuthKeySchema)
  rotate(
    @AuthCaller() caller: AuthUser,
    @Param() { id }: IdParamDto,
    @ZodBody(rotateAuthKeySchema) body: RotateAuthKeyInput,
  ): Promise<AuthKeyWithSecret> {
    return this.rpc.send<AuthKeyWithSecret>(caller, AuthPattern.KeysRotate, {
      id,
      graceSeconds: body?.graceSeconds,
    } satisfies Omit<RotateKeyRequest, 'proof'>);
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@AuthCaller() caller: AuthUser, @Param() { id }: IdParamDto): Promise<void> {
    await this.rpc.send<unknown>(caller, AuthPattern.KeysDelete, { id } satisfies Omit<IdRequest, 'proof'>);
  }
}
