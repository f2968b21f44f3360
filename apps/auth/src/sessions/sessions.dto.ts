import { IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import type { LoginRequest, LogoutRequest, RefreshRequest } from '@gg/contracts';

export class LoginDto implements LoginRequest {
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  username: string;

  @IsString()
  @MinLength(1)
  @MaxLength(1024)
  password: string;

  @IsOptional()
  @IsString()
  @MaxLength(64)
  ip?: string;
}

export class RefreshDto implements RefreshRequest {
  @IsString()
  @MinLength(1)
  @MaxLength(256)
  refreshToken: string;

  @IsOptional()
  @IsString()
  @MaxLength(64)
  ip?: string;
}

export class LogoutDto implements LogoutRequest {
  @IsOptional()
  @IsString()
  @MaxLength(256)
  refreshToken?: string;

  @IsOptional()
  @IsString()
  @MaxLength(2048)
  proof?: string;

  /** set by LogoutProofGuard from a verified proof, never taken from the sender */
  @IsOptional()
  @IsString()
  @MaxLength(64)
  provenSessionId?: string;
}
