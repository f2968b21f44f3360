import { Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import {
  PoolPattern,
  addPoolKeysSchema,
  type AddPoolKeysInput,
  type AddPoolKeysRequest,
  type AddPoolKeysResult,
  type KeyCheckResult,
  type PoolKey,
  type PoolKeyIdRequest,
} from '@gg/contracts';
import { IdParamDto } from '../common/id-param.dto';
import type { AuthUser } from '../security/auth-user';
import { CallerRpc } from '../security/caller-rpc';
import { AuthCaller, Roles } from '../security/decorators';
import { ZodBody } from '@gg/nest-common';
import { ApiZodBody } from '../http/zod-openapi';

/** A key check makes one real upstream call: give it longer than the default RPC timeout. */
const CHECK_TIMEOUT_MS = 30_000;

/** `/api/keys`: the Gemini key pool, admin only (key-pool also wants the admin's caller proof). */
@Controller('keys')
@Roles('admin')
export class KeysController {
  constructor(private readonly rpc: CallerRpc) {}

  @Get()
  list(@AuthCaller() caller: AuthUser): Promise<PoolKey[]> {
    return this.rpc.send<PoolKey[]>(caller, PoolPattern.List);
  }

  @Post()
  @ApiZodBody(addPoolKeysSchema)
  add(@AuthCaller() caller: AuthUser, @ZodBody(addPoolKeysSchema) body: AddPoolKeysInput): Promise<AddPoolKeysResult> {
    return this.rpc.send<AddPoolKeysResult>(caller, PoolPattern.Add, { keys: body.keys } satisfies AddPoolKeysRequest);
  }

  @Post('reset')
  @HttpCode(200)
  resetAll(@AuthCaller() caller: AuthUser): Promise<unknown> {
    return this.rpc.send<unknown>(caller, PoolPattern.ResetAll);
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@AuthCaller() caller: AuthUser, @Param() { id }: IdParamDto): Promise<void> {
    await this.rpc.send<unknown>(caller, PoolPattern.Delete, { id } satisfies PoolKeyIdRequest);
  }

  @Post(':id/reset')
  @HttpCode(200)
  reset(@AuthCaller() caller: AuthUser, @Param() { id }: IdParamDto): Promise<unknown> {
    return this.rpc.send<unknown>(caller, PoolPattern.Reset, { id } satisfies PoolKeyIdRequest);
  }

  @Post(':id/check')
  @HttpCode(200)
  check(@AuthCaller() caller: AuthUser, @Param() { id }: IdParamDto): Promise<KeyCheckResult> {
    return this.rpc.send<KeyCheckResult>(
      caller,
      PoolPattern.Check,
      { id } satisfies PoolKeyIdRequest,
      CHECK_TIMEOUT_MS,
    );
  }
}
