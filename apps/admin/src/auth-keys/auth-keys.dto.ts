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
import { ALLOWED_MODELS_MAX, GRACE_SECONDS_MAX, KEY_NAME_MAX, RATE_LIMIT_MAX, type KeyLimits } from '@gg/contracts';

const NAME_MESSAGE = `name must be 1-${KEY_NAME_MAX} characters`;
const EXPIRES_MESSAGE = 'expiresAt must be an ISO 8601 date-time, e.g. 2030-01-01T00:00:00Z';
const RATE_MESSAGE = `rateLimitPerMinute must be an integer from 1 to ${RATE_LIMIT_MAX}, or null for no limit`;
const MODELS_MESSAGE = `allowedModels must be a list of 1-${ALLOWED_MODELS_MAX} model ids, or null for any model`;

export class ListAuthKeysQuery {
  /** admins only: another user's keys */
  @IsOptional()
  @Matches(/^[A-Za-z0-9_.:-]{1,64}$/, { message: 'userId is not a valid id' })
  userId?: string;
}

/** Optional limits; `null` removes one (ValidateIf skips the checks for null). */
class KeyLimitsDto implements KeyLimits {
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsInt({ message: RATE_MESSAGE })
  @Min(1, { message: RATE_MESSAGE })
  @Max(RATE_LIMIT_MAX, { message: RATE_MESSAGE })
  rateLimitPerMinute?: number | null;

  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsArray({ message: MODELS_MESSAGE })
  @ArrayMaxSize(ALLOWED_MODELS_MAX, { message: MODELS_MESSAGE })
  @IsString({ each: true, message: MODELS_MESSAGE })
  @MaxLength(200, { each: true, message: MODELS_MESSAGE })
  allowedModels?: string[] | null;
}

export class CreateAuthKeyDto extends KeyLimitsDto {
  @IsString()
  @MinLength(1, { message: NAME_MESSAGE })
  @MaxLength(KEY_NAME_MAX, { message: NAME_MESSAGE })
  name: string;

  /** ISO 8601 time; null or absent: never expires */
  @IsOptional()
  @IsISO8601({ strict: true }, { message: EXPIRES_MESSAGE })
  expiresAt?: string | null;
}

export class UpdateAuthKeyDto extends KeyLimitsDto {
  @IsOptional()
  @IsString()
  @MinLength(1, { message: NAME_MESSAGE })
  @MaxLength(KEY_NAME_MAX, { message: NAME_MESSAGE })
  name?: string;

  @IsOptional()
  @IsBoolean({ message: 'isActive must be true or false' })
  isActive?: boolean;

  /** a new expiry, or null: never */
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsISO8601({ strict: true }, { message: EXPIRES_MESSAGE })
  expiresAt?: string | null;
}

export class RotateAuthKeyDto {
  /** keep the old secret valid this many seconds (0 or absent: it stops at once) */
  @IsOptional()
  @IsInt({ message: 'graceSeconds must be an integer' })
  @Min(0, { message: 'graceSeconds must be 0 or more' })
  @Max(GRACE_SECONDS_MAX, { message: `graceSeconds must be at most ${GRACE_SECONDS_MAX} (30 days)` })
  graceSeconds?: number;
}
