import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import {
  PoolPattern,
  type AddPoolKeysRequest,
  type AddPoolKeysResult,
  type KeyCheckResult,
  type PoolKey,
  type PoolKeyIdRequest,
} from '@gg/contracts';
import { RpcClient } from '@gg/nest-common';
import { IdParamDto } from '../common/id-param.dto';
import { Roles } from '../security/decorators';
import { AddPoolKeysDto } from './keys.dto';

/** A key check makes one real upstream call: give it longer than the default RPC timeout. */
const CHECK_TIMEOUT_MS = 30_000;

/** `/api/keys`: the Gemini key pool, admin only. */
@Controller('keys')
@Roles('admin')
export class KeysController {
  constructor(private readonly rpc: RpcClient) {}

  @Get()
  list(): Promise<PoolKey[]> {
    return this.rpc.send<PoolKey[]>(PoolPattern.List, {});
  }

  @Post()
  add(@Body() body: AddPoolKeysDto): Promise<AddPoolKeysResult> {
    return this.rpc.send<AddPoolKeysResult>(PoolPattern.Add, { keys: body.keys } satisfies AddPoolKeysRequest);
  }

  @Post('reset')
  @HttpCode(200)
  resetAll(): Promise<unknown> {
    return this.rpc.send<unknown>(PoolPattern.ResetAll, {});
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@Param() { id }: IdParamDto): Promise<void> {
    await this.rpc.send<unknown>(PoolPattern.Delete, { id } satisfies PoolKeyIdRequest);
  }

  @Post(':id/reset')
  @HttpCode(200)
  reset(@Param() { id }: IdParamDto): Promise<unknown> {
    return this.rpc.send<unknown>(PoolPattern.Reset, { id } satisfies PoolKeyIdRequest);
  }

  @Post(':id/check')
  @HttpCode(200)
  check(@Param() { id }: IdParamDto): Promise<KeyCheckResult> {
    return this.rpc.send<KeyCheckResult>(PoolPattern.Check, { id } satisfies PoolKeyIdRequest, CHECK_TIMEOUT_MS);
  }
}
