import { Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import {
  AuthPattern,
  createUserSchema,
  updateUserSchema,
  type CreateUserInput,
  type CreateUserRequest,
  type IdRequest,
  type UpdateUserInput,
  type UpdateUserRequest,
  type User,
} from '@gg/contracts';
import { ZodBody } from '@gg/nest-common';
import { IdParamDto } from '../common/id-param.dto';
import type { AuthUser } from '../security/auth-user';
import { CallerRpc } from '../security/caller-rpc';
import { SessionLiveness } from '../security/session-liveness.service';
import { AuthCaller, CheckedByAuth, Roles } from '../security/decorators';
import { ApiZodBody } from '../http/zod-openapi';

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
  @ApiZodBody(createUserSchema)
  create(@AuthCaller() caller: AuthUser, @ZodBody(createUserSchema) body: CreateUserInput): Promise<User> {
    return this.rpc.send<User>(caller, AuthPattern.UsersCreate, { ...body } satisfies Omit<CreateUserRequest, 'proof'>);
  }

  @Patch(':id')
  @ApiZodBody(updateUserSchema)
  update(
    @AuthCaller() caller: AuthUser,
    @Param() { id }: IdParamDto,
    @ZodBody(updateUserSchema) body: UpdateUserInput,
  ): Promise<User> {
    // a role, password or active change ends the user's sessions: at once on this replica, on the others within 1 s
    return this.rpc
      .send<User>(caller, AuthPattern.UsersUpdate, { id, ...body } satisfies Omit<UpdateUserRequest, 'proof'>)
      .finally(() => this.sessions.forgetUser(id));
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@AuthCaller() caller: AuthUser, @Param() { id }: IdParamDto): Promise<void> {
    await this.rpc
      .send<unknown>(caller, AuthPattern.UsersDelete, { id } satisfies Omit<IdRequest, 'proof'>)
      .finally(() => this.sessions.forgetUser(id));
  }
}
