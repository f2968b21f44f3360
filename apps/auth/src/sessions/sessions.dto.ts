import { IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import type { z } from 'zod';
import type { loginRequestSchema, LogoutRequest, RefreshRequest } from '@gg/contracts';

/** `auth.login`: the admin's login body (`loginSchema`) plus the client's address. */
export type LoginDto = z.output<typeof loginRequestSchema>;

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
