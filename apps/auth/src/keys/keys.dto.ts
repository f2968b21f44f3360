import { IsBoolean, IsInt, IsISO8601, IsOptional, IsString, Matches, MaxLength, Min, MinLength } from 'class-validator';
import type {
  CreateKeyRequest,
  KeyVerifyRequest,
  ListKeysRequest,
  RotateKeyRequest,
  UpdateKeyRequest,
} from '@gg/contracts';
import { CallerRequestDto, IdRequestDto } from '../common/caller.dto';

export const KEY_NAME_MAX = 100;

export class ListKeysDto extends CallerRequestDto implements ListKeysRequest {
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  userId?: string;
}

export class CreateKeyDto extends CallerRequestDto implements CreateKeyRequest {
  @IsString()
  @MaxLength(KEY_NAME_MAX)
  name: string;

  /** ISO-8601 time in the future, or null/absent for a key that never expires */
  @IsOptional()
  @IsISO8601({ strict: true })
  expiresAt?: string | null;
}

export class UpdateKeyDto extends IdRequestDto implements UpdateKeyRequest {
  @IsOptional()
  @IsString()
  @MaxLength(KEY_NAME_MAX)
  name?: string;

  @IsOptional()
  @IsBoolean()
  isActive?: boolean;
}

export class RotateKeyDto extends IdRequestDto implements RotateKeyRequest {
  /** accepted for the contract; the old secret is revoked at once for now */
  @IsOptional()
  @IsInt()
  @Min(0)
  graceSeconds?: number;
}

export class KeyVerifyDto implements KeyVerifyRequest {
  @IsString()
  @Matches(/^[0-9a-f]{64}$/, { message: 'hash must be 64 lowercase hex characters' })
  hash: string;
}
