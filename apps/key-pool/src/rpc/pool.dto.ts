import { Type } from 'class-transformer';
import {
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import type {
  AddPoolKeysRequest,
  AttemptBlame,
  AttemptOutcome,
  InFlightReport,
  OutcomeKind,
  PoolKeyIdRequest,
  PoolOutcomeBatch,
} from '@gg/contracts';

const OUTCOME_KINDS: OutcomeKind[] = ['success', 'rate_limited', 'invalid', 'transient', 'affinity', 'client_error'];

/** `pool.keys.add`: `addPoolKeysRequestSchema` of `@gg/contracts`, the admin's `POST /api/keys` body. */
export type AddPoolKeysDto = AddPoolKeysRequest;

export class PoolKeyIdDto implements PoolKeyIdRequest {
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  id: string;
}

export class AttemptOutcomeDto implements AttemptOutcome {
  @IsString()
  keyId: string;

  @IsOptional()
  @IsString()
  model: string | null;

  @IsIn(OUTCOME_KINDS)
  kind: OutcomeKind;

  @IsInt()
  @Min(0)
  @Max(999)
  status: number;

  @IsOptional()
  @IsNumber()
  @Min(0)
  retryDelayMs?: number;

  @IsOptional()
  @IsString()
  @MaxLength(1000)
  reason?: string;

  @IsNumber()
  at: number;

  @IsOptional()
  @IsInt()
  @Min(1)
  count?: number;

  @IsOptional()
  @IsString()
  @MaxLength(128)
  user?: string;

  @IsOptional()
  @IsIn(['key', 'request'])
  blame?: AttemptBlame;

  @IsOptional()
  @IsBoolean()
  overloaded?: boolean;
}

export class PoolOutcomeBatchDto implements PoolOutcomeBatch {
  @IsString()
  gatewayId: string;

  @IsOptional()
  @IsInt()
  @Min(0)
  seq?: number;

  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => AttemptOutcomeDto)
  outcomes: AttemptOutcomeDto[];
}

export class InFlightReportDto implements InFlightReport {
  @IsString()
  gatewayId: string;

  /** keyId -> count; entries that are not positive numbers are ignored */
  @IsObject()
  inFlight: Record<string, number>;

  @IsNumber()
  expiresAt: number;
}
