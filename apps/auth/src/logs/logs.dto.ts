import { Type } from 'class-transformer';
import {
  IsDefined,
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import type { LogQuery, LogsQueryRequest, StatsRequest, StatsWindow } from '@gg/contracts';
import { CallerRequestDto } from '../common/caller.dto';

export const STATS_WINDOWS: readonly StatsWindow[] = ['1h', '24h', '7d'];
export const LOGS_PAGE_MAX = 500;

export class LogQueryDto implements LogQuery {
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(LOGS_PAGE_MAX)
  limit?: number;

  @IsOptional()
  @IsString()
  @MaxLength(512)
  cursor?: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(599)
  status?: number;

  @IsOptional()
  @IsString()
  @MaxLength(200)
  model?: string;

  @IsOptional()
  @IsString()
  @MaxLength(64)
  authKeyId?: string;

  @IsOptional()
  @IsISO8601()
  since?: string;

  @IsOptional()
  @IsString()
  @MaxLength(64)
  userId?: string;
}

export class LogsQueryDto extends CallerRequestDto implements LogsQueryRequest {
  @IsDefined()
  @ValidateNested()
  @Type(() => LogQueryDto)
  query: LogQueryDto;
}

export class StatsDto extends CallerRequestDto implements StatsRequest {
  @IsIn(STATS_WINDOWS)
  window: StatsWindow;
}
