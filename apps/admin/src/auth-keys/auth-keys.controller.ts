import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import {
  AuthPattern,
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
import { CreateAuthKeyDto, ListAuthKeysQuery, RotateAuthKeyDto, UpdateAuthKeyDto } from './auth-keys.dto';

/** `/api/auth-keys`: the caller's own user API keys (auth answers 404 for another user's key). */
@Controller('auth-keys')
@CheckedByAuth()
export class AuthKeysController {
  constructor(private readonly rpc: CallerRpc) {}

  @Get()
  list(@AuthCaller() caller: AuthUser, @Query() query: ListAuthKeysQuery): Promise<AuthKey[]> {
    return this.rpc.send<AuthKey[]>(caller, AuthPattern.KeysList, { userId: userScope(caller, query.userId) } satisfies Omit<ListKeysRequest, 'proof'>);
  }

  @Post()
  create(@AuthCaller() caller: AuthUser, @Body() body: CreateAuthKeyDto): Promise<AuthKeyWithSecret> {
    return this.rpc.send<AuthKeyWithSecret>(caller, AuthPattern.KeysCreate, { ...body } satisfies Omit<CreateKeyRequest, 'proof'>);
  }

  @Patch(':id')
  update(@AuthCaller() caller: AuthUser, @Param() { id }: IdParamDto, @Body() body: UpdateAuthKeyDto): Promise<AuthKey> {
    return this.rpc.send<AuthKey>(caller, AuthPattern.KeysUpdate, { id, ...body } satisfies Omit<UpdateKeyRequest, 'proof'>);
  }

  @Post(':id/rotate')
  @HttpCode(200)
  rotate(@AuthCaller() caller: AuthUser, @Param() { id }: IdParamDto, @Body() body: RotateAuthKeyDto): Promise<AuthKeyWithSecret> {
    return this.rpc.send<AuthKeyWithSecret>(caller, AuthPattern.KeysRotate, { id, graceSeconds: body?.graceSeconds } satisfies Omit<RotateKeyRequest, 'proof'>);
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@AuthCaller() caller: AuthUser, @Param() { id }: IdParamDto): Promise<void> {
    await this.rpc.send<unknown>(caller, AuthPattern.KeysDelete, { id } satisfies Omit<IdRequest, 'proof'>);
  }
}
