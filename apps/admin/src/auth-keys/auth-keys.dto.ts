import { IsBoolean, IsISO8601, IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';

const NAME_MESSAGE = 'name must be 1-100 characters';

export class ListAuthKeysQuery {
  /** admins only: another user's keys */
  @IsOptional()
  @Matches(/^[A-Za-z0-9_.:-]{1,64}$/, { message: 'userId is not a valid id' })
  userId?: string;
}

export class CreateAuthKeyDto {
  @IsString()
  @MinLength(1, { message: NAME_MESSAGE })
  @MaxLength(100, { message: NAME_MESSAGE })
  name: string;

  /** ISO 8601 time; null or absent: never expires */
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'expiresAt must be an ISO 8601 date-time, e.g. 2030-01-01T00:00:00Z' })
  expiresAt?: string | null;
}

export class UpdateAuthKeyDto {
  @IsOptional()
  @IsString()
  @MinLength(1, { message: NAME_MESSAGE })
  @MaxLength(100, { message: NAME_MESSAGE })
  name?: string;

  @IsOptional()
  @IsBoolean({ message: 'isActive must be true or false' })
  isActive?: boolean;
}
