import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import {
  AuthPattern,
  type Caller,
  type CallerRequest,
  type CreateUserRequest,
  type IdRequest,
  type UpdateUserRequest,
  type User,
} from '@gg/contracts';
import { RpcClient } from '@gg/nest-common';
import { IdParamDto } from '../common/id-param.dto';
import { AuthCaller, CheckedByAuth, Roles } from '../security/decorators';
import { CreateUserDto, UpdateUserDto } from './users.dto';

/** `/api/users`: admin only. */
@Controller('users')
@Roles('admin')
@CheckedByAuth()
export class UsersController {
  constructor(private readonly rpc: RpcClient) {}

  @Get()
  list(@AuthCaller() caller: Caller): Promise<User[]> {
    return this.rpc.send<User[]>(AuthPattern.UsersList, { caller } satisfies CallerRequest);
  }

  @Post()
  create(@AuthCaller() caller: Caller, @Body() body: CreateUserDto): Promise<User> {
    return this.rpc.send<User>(AuthPattern.UsersCreate, { caller, ...body } satisfies CreateUserRequest);
  }

  @Patch(':id')
  update(@AuthCaller() caller: Caller, @Param() { id }: IdParamDto, @Body() body: UpdateUserDto): Promise<User> {
    return this.rpc.send<User>(AuthPattern.UsersUpdate, { caller, id, ...body } satisfies UpdateUserRequest);
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@AuthCaller() caller: Caller, @Param() { id }: IdParamDto): Promise<void> {
    await this.rpc.send<unknown>(AuthPattern.UsersDelete, { caller, id } satisfies IdRequest);
  }
}
