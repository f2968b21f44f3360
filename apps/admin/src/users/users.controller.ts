import { Controller, Delete, Get, HttpCode, Param, Patch, Post, Req } from '@nestjs/common';
import {
  AUDIT_SECRET_CHANGED,
  AuditAction,
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
import type { Request } from 'express';
import { AuditRecorder } from '../audit/audit-recorder.service';
import { IdParamDto } from '../common/id-param.dto';
import type { AuthUser } from '../security/auth-user';
import { CallerRpc } from '../security/caller-rpc';
import { SessionLiveness } from '../security/session-liveness.service';
import { AuthCaller, CheckedByAuth, Roles } from '../security/decorators';
import { ApiZodBody } from '../http/zod-openapi';

/** `/api/users`: admin only; every change is audited (a password only as the fact that it changed). */
@Controller('users')
@Roles('admin')
@CheckedByAuth()
export class UsersController {
  constructor(
    private readonly rpc: CallerRpc,
    private readonly sessions: SessionLiveness,
    private readonly audit: AuditRecorder,
  ) {}

  @Get()
  list(@AuthCaller() caller: AuthUser): Promise<User[]> {
    return this.rpc.send<User[]>(caller, AuthPattern.UsersList);
  }

  @Post()
  @ApiZodBody(createUserSchema)
  async create(
    @AuthCaller() caller: AuthUser,
    @ZodBody(createUserSchema) body: CreateUserInput,
    @Req() req: Request,
  ): Promise<User> {
    const user = await this.rpc.send<User>(caller, AuthPattern.UsersCreate, { ...body } satisfies Omit<
      CreateUserRequest,
      'proof'
    >);
    await this.audit.record(caller, req, {
      action: AuditAction.UserCreate,
      targetType: 'user',
      targetId: user.id,
      targetName: user.username,
      changes: { username: user.username, role: user.role, isActive: user.isActive },
    });
    return user;
  }

  @Patch(':id')
  @ApiZodBody(updateUserSchema)
  async update(
    @AuthCaller() caller: AuthUser,
    @Param() { id }: IdParamDto,
    @ZodBody(updateUserSchema) body: UpdateUserInput,
    @Req() req: Request,
  ): Promise<User> {
    // a role, password or active change ends the user's sessions: at once on this replica, on the others within 1 s
    const user = await this.rpc
      .send<User>(caller, AuthPattern.UsersUpdate, { id, ...body } satisfies Omit<UpdateUserRequest, 'proof'>)
      .finally(() => this.sessions.forgetUser(id));
    const changes: Record<string, string | boolean> = {};
    if (body.role !== undefined) changes['role'] = body.role;
    if (body.isActive !== undefined) changes['isActive'] = body.isActive;
    if (body.password !== undefined) changes['password'] = AUDIT_SECRET_CHANGED;
    await this.audit.record(caller, req, {
      action: AuditAction.UserUpdate,
      targetType: 'user',
      targetId: user.id,
      targetName: user.username,
      changes,
    });
    return user;
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@AuthCaller() caller: AuthUser, @Param() { id }: IdParamDto, @Req() req: Request): Promise<void> {
    const name = await this.audit.username(caller, id);
    await this.rpc
      .send<unknown>(caller, AuthPattern.UsersDelete, { id } satisfies Omit<IdRequest, 'proof'>)
      .finally(() => this.sessions.forgetUser(id));
    await this.audit.record(caller, req, {
      action: AuditAction.UserDelete,
      targetType: 'user',
      targetId: id,
      targetName: name,
      changes: null,
    });
  }
}
