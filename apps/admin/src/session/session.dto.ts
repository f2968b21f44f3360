import { IsString, MaxLength, MinLength } from 'class-validator';
import type { LoginRequest } from '@gg/contracts';
import { PASSWORD_MAX, PASSWORD_MIN } from '../users/users.dto';

export class LoginDto implements LoginRequest {
  @IsString()
  @MinLength(1, { message: 'username is required' })
  @MaxLength(128)
  username: string;

  @IsString()
  @MinLength(1, { message: 'password is required' })
  @MaxLength(PASSWORD_MAX)
  password: string;
}

export class ChangePasswordDto {
  @IsString()
  @MinLength(1, { message: 'currentPassword is required' })
  @MaxLength(PASSWORD_MAX)
  currentPassword: string;

  @IsString()
  @MinLength(PASSWORD_MIN, { message: `newPassword must be at least ${PASSWORD_MIN} characters` })
  @MaxLength(PASSWORD_MAX)
  newPassword: string;
}
