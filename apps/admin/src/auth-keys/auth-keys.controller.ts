import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import {
  AuthPattern,
  type AuthKey,
  type AuthKeyWithSecret,
  type Caller,
  type CreateKeyRequest,
  type IdRequest,
  type ListKeysRequest,
  type RotateKeyRequest,
  type UpdateKeyRequest,
} from '@gg/contracts';
import { RpcClient } from '@gg/nest-common';
import { IdParamDto } from '../common/id-param.dto';
import { AuthCaller, CheckedByAuth } from '../security/decorators';
import { userScope } from '../security/scope';
import { CreateAuthKeyDto, ListAuthKeysQuery, RotateAuthKeyDto, UpdateAuthKeyDto } from './auth-keys.dto';

/** `/api/auth-keys`: the caller's own user API keys (auth answers 404 for another user's key). */
@Controller('auth-keys')
@CheckedByAuth()
export class AuthKeysController {
  constructor(private readonly rpc: RpcClient) {}

  @Get()
  list(@AuthCaller() caller: Caller, @Query() query: ListAuthKeysQuery): Promise<AuthKey[]> {
    return this.rpc.send<AuthKey[]>(AuthPattern.KeysList, { caller, userId: userScope(caller, query.userId) } satisfies ListKeysRequest);
  }

  @Post()
  create(@AuthCaller() caller: Caller, @Body() body: CreateAuthKeyDto): Promise<AuthKeyWithSecret> {
    return this.rpc.send<AuthKeyWithSecret>(AuthPattern.KeysCreate, { caller, ...body } satisfies CreateKeyRequest);
  }

  @Patch(':id')
  update(@AuthCaller() caller: Caller, @Param() { id }: IdParamDto, @Body() body: UpdateAuthKeyDto): Promise<AuthKey> {
    return this.rpc.send<AuthKey>(AuthPattern.KeysUpdate, { caller, id, ...body } satisfies UpdateKeyRequest);
  }

  @Post(':id/rotate')
  @HttpCode(200)
  rotate(@AuthCaller() caller: Caller, @Param() { id }: IdParamDto, @Body() body: RotateAuthKeyDto): Promise<AuthKeyWithSecret> {
    return this.rpc.send<AuthKeyWithSecret>(AuthPattern.KeysRotate, { caller, id, graceSeconds: body?.graceSeconds } satisfies RotateKeyRequest);
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@AuthCaller() caller: Caller, @Param() { id }: IdParamDto): Promise<void> {
    await this.rpc.send<unknown>(AuthPattern.KeysDelete, { caller, id } satisfies IdRequest);
  }
}
