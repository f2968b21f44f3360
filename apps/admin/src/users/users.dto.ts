import { IsBoolean, IsIn, IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import type { Role } from '@gg/contracts';

export const ROLES: readonly Role[] = ['admin', 'user'];
/** Same rule as auth: 3-64 characters, starting with a letter or digit. */
const USERNAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.@-]{2,63}$/;
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 1024;

export class CreateUserDto {
  @IsString()
  @Matches(USERNAME_PATTERN, { message: 'username must be 3-64 characters of letters, digits, "_", ".", "@" or "-"' })
  username: string;

  @IsString()
  @MinLength(PASSWORD_MIN, { message: `password must be at least ${PASSWORD_MIN} characters` })
  @MaxLength(PASSWORD_MAX)
  password: string;

  @IsIn(ROLES, { message: 'role must be "admin" or "user"' })
  role: Role;
}

export class UpdateUserDto {
  @IsOptional()
  @IsIn(ROLES, { message: 'role must be "admin" or "user"' })
  role?: Role;

  @IsOptional()
  @IsString()
  @MinLength(PASSWORD_MIN, { message: `password must be at least ${PASSWORD_MIN} characters` })
  @MaxLength(PASSWORD_MAX)
  password?: string;

  @IsOptional()
  @IsBoolean({ message: 'isActive must be true or false' })
  isActive?: boolean;
}
