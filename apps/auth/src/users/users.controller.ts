import { Controller, UseGuards } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import {
  AuthPattern,
  changePasswordRequestSchema,
  createUserRequestSchema,
  updateUserRequestSchema,
  type Me,
  type User,
} from '@gg/contracts';
import { NsMessagePattern, ZodPayload } from '@gg/nest-common';
import { CallerRequestDto, IdRequestDto } from '../common/caller.dto';
import { AdminOnly, CallerGuard } from '../common/caller.guard';
import type { ChangePasswordDto, CreateUserDto, UpdateUserDto } from './users.dto';
import { UsersService } from './users.service';

@Controller()
@UseGuards(CallerGuard)
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @AdminOnly()
  @NsMessagePattern(AuthPattern.UsersList)
  list(@Payload() _req: CallerRequestDto): Promise<User[]> {
    return this.users.list();
  }

  @AdminOnly()
  @NsMessagePattern(AuthPattern.UsersCreate)
  create(@ZodPayload(createUserRequestSchema) req: CreateUserDto): Promise<User> {
    return this.users.create({ username: req.username, password: req.password, role: req.role });
  }

  @AdminOnly()
  @NsMessagePattern(AuthPattern.UsersUpdate)
  update(@ZodPayload(updateUserRequestSchema) req: UpdateUserDto): Promise<User> {
    return this.users.update(req.id, { role: req.role, password: req.password, isActive: req.isActive });
  }

  @AdminOnly()
  @NsMessagePattern(AuthPattern.UsersDelete)
  delete(@Payload() req: IdRequestDto): Promise<null> {
    return this.users.delete(req.id);
  }

  @NsMessagePattern(AuthPattern.Me)
  me(@Payload() req: CallerRequestDto): Promise<Me> {
    return this.users.me(req.caller);
  }

  @NsMessagePattern(AuthPattern.ChangePassword)
  changePassword(@ZodPayload(changePasswordRequestSchema) req: ChangePasswordDto): Promise<null> {
    return this.users.changePassword(req.caller, req.currentPassword, req.newPassword);
  }
}
