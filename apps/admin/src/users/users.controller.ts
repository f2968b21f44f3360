import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { AuthPattern, type CreateUserRequest, type IdRequest, type UpdateUserRequest, type User } from '@gg/contracts';
import { IdParamDto } from '../common/id-param.dto';
import type { AuthUser } from '../security/auth-user';
import { CallerRpc } from '../security/caller-rpc';
import { SessionLiveness } from '../security/session-liveness.service';
import { AuthCaller, CheckedByAuth, Roles } from '../security/decorators';
import { CreateUserDto, UpdateUserDto } from './users.dto';

/** `/api/users`: admin only. */
@Controller('users')
@Roles('admin')
@CheckedByAuth()
export class UsersController {
  constructor(
    private readonly rpc: CallerRpc,
    private readonly sessions: SessionLiveness,
  ) {}

  @Get()
  list(@AuthCaller() caller: AuthUser): Promise<User[]> {
    return this.rpc.send<User[]>(caller, AuthPattern.UsersList);
  }

  @Post()
  create(@AuthCaller() caller: AuthUser, @Body() body: CreateUserDto): Promise<User> {
    return this.rpc.send<User>(caller, AuthPattern.UsersCreate, { ...body } satisfies Omit<CreateUserRequest, 'proof'>);
  }

  @Patch(':id')
  update(@AuthCaller() caller: AuthUser, @Param() { id }: IdParamDto, @Body() body: UpdateUserDto): Promise<User> {
    // a role, password or active change ends the user's sessions: at once on this replica, on the others within 1 s
    return this.rpc
      .send<User>(caller, AuthPattern.UsersUpdate, { id, ...body } satisfies Omit<UpdateUserRequest, 'proof'>)
      .finally(() => this.sessions.forgetUser(id));
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@AuthCaller() caller: AuthUser, @Param() { id }: IdParamDto): Promise<void> {
    await this.rpc.send<unknown>(caller, AuthPattern.UsersDelete, { id } satisfies Omit<IdRequest, 'proof'>).finally(() => this.sessions.forgetUser(id));
  }
}
