import { Type } from 'class-transformer';
import { IsDefined, IsIn, IsInt, IsString, Max, MaxLength, Min, MinLength, ValidateNested } from 'class-validator';
import { ROLES, type Caller, type Role } from '@gg/contracts';

/** Who is calling, as CallerGuard proved it from the caller proof (any `caller` sent is replaced). */
export class CallerDto implements Caller {
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  userId: string;

  @IsIn(ROLES)
  role: Role;

  /** the token version the access token was issued for; a newer one in the database ends the session */
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  tokenVersion: number;
}

/** Base of every request made on behalf of a logged-in user. */
export class CallerRequestDto {
  /** the caller proof (checked by CallerGuard, which derives `caller` from it) */
  @IsString()
  @MaxLength(2048)
  proof: string;

  @IsDefined()
  @ValidateNested()
  @Type(() => CallerDto)
  caller: CallerDto;
}

/** `{caller, id}`: the object an RPC acts on. */
export class IdRequestDto extends CallerRequestDto {
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  id: string;
}
