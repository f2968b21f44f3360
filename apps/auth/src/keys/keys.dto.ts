import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateIf,
} from 'class-validator';
import { ALLOWED_MODELS_MAX, GRACE_SECONDS_MAX, KEY_NAME_MAX, RATE_LIMIT_MAX } from '@gg/contracts';
import type {
  CreateKeyRequest,
  KeyVerifyRequest,
  ListKeysRequest,
  RotateKeyRequest,
  UpdateKeyRequest,
} from '@gg/contracts';
import { CallerRequestDto, IdRequestDto } from '../common/caller.dto';


export class ListKeysDto extends CallerRequestDto implements ListKeysRequest {
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  userId?: string;
}

/** `null` clears a limit, so both fields accept null (ValidateIf skips the checks for it). */
class KeyLimitsDto extends CallerRequestDto {
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsInt({ message: 'rateLimitPerMinute must be an integer or null' })
  @Min(1, { message: 'rateLimitPerMinute must be at least 1 (null: no limit)' })
  @Max(RATE_LIMIT_MAX, { message: `rateLimitPerMinute must be at most ${RATE_LIMIT_MAX}` })
  rateLimitPerMinute?: number | null;

  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsArray({ message: 'allowedModels must be a list of model ids or null' })
  @ArrayMaxSize(ALLOWED_MODELS_MAX)
  @IsString({ each: true })
  @MaxLength(200, { each: true })
  allowedModels?: string[] | null;
}

export class CreateKeyDto extends KeyLimitsDto implements CreateKeyRequest {
  @IsString()
  @MaxLength(KEY_NAME_MAX)
  name: string;

  /** ISO-8601 time in the future, or null/absent for a key that never expires */
  @IsOptional()
  @IsISO8601({ strict: true })
  expiresAt?: string | null;
}

export class UpdateKeyDto extends KeyLimitsDto implements UpdateKeyRequest {
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  id: string;

  @IsOptional()
  @IsString()
  @MaxLength(KEY_NAME_MAX)
  name?: string;

  @IsOptional()
  @IsBoolean()
  isActive?: boolean;

  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsISO8601({ strict: true })
  expiresAt?: string | null;
}

export class RotateKeyDto extends IdRequestDto implements RotateKeyRequest {
  /** keep the old secret valid this many seconds (0 or absent: it stops at once) */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(GRACE_SECONDS_MAX, { message: `graceSeconds must be at most ${GRACE_SECONDS_MAX} (30 days)` })
  graceSeconds?: number;
}

export class KeyVerifyDto implements KeyVerifyRequest {
  @IsString()
  @Matches(/^[0-9a-f]{64}$/, { message: 'hash must be 64 lowercase hex characters' })
  hash: string;
}
