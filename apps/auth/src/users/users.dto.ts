import { IsBoolean, IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import type { ChangePasswordRequest, CreateUserRequest, Role, UpdateUserRequest } from '@gg/contracts';
import { CallerRequestDto, IdRequestDto, ROLES } from '../common/caller.dto';

/** 3..64 characters: letters, digits, `_`, `.`, `@`, `-`, starting with a letter or digit. */
export const USERNAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.@-]{2,63}$/;
const USERNAME_MESSAGE = 'username must be 3-64 characters of letters, digits, "_", ".", "@" or "-"';

/** Passwords are checked for length by PasswordService (characters and bcrypt's 72-byte limit). */
const PASSWORD_MAX_CHARS = 1024;

export class CreateUserDto extends CallerRequestDto implements CreateUserRequest {
  @IsString()
  @Matches(USERNAME_PATTERN, { message: USERNAME_MESSAGE })
  username: string;

  @IsString()
  @MaxLength(PASSWORD_MAX_CHARS)
  password: string;

  @IsIn(ROLES)
  role: Role;
}

export class UpdateUserDto extends IdRequestDto implements UpdateUserRequest {
  @IsOptional()
  @IsIn(ROLES)
  role?: Role;

  @IsOptional()
  @IsString()
  @MaxLength(PASSWORD_MAX_CHARS)
  password?: string;

  @IsOptional()
  @IsBoolean()
  isActive?: boolean;
}

export class ChangePasswordDto extends CallerRequestDto implements ChangePasswordRequest {
  @IsString()
  @MaxLength(PASSWORD_MAX_CHARS)
  currentPassword: string;

  @IsString()
  @MaxLength(PASSWORD_MAX_CHARS)
  newPassword: string;
}
