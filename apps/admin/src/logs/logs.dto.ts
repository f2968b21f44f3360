import { Type } from 'class-transformer';
import { IsInt, IsISO8601, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import type { LogQuery } from '@gg/contracts';

export class LogsQueryDto implements Omit<LogQuery, 'userId'> {
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be an integer' })
  @Min(1)
  @Max(1000)
  limit?: number;

  @IsOptional()
  @IsString()
  @MaxLength(512)
  cursor?: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'status must be an HTTP status code' })
  @Min(100, { message: 'status must be an HTTP status code' })
  @Max(599, { message: 'status must be an HTTP status code' })
  status?: number;

  @IsOptional()
  @IsString()
  @MaxLength(200)
  model?: string;

  @IsOptional()
  @Matches(/^[A-Za-z0-9_.:-]{1,64}$/, { message: 'authKeyId is not a valid id' })
  authKeyId?: string;

  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'since must be an ISO 8601 date-time, e.g. 2030-01-01T00:00:00Z' })
  since?: string;
}
