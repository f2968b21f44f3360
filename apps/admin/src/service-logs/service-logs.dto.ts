import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import type { ServiceLogLine } from '@gg/contracts';

export const LOG_LEVELS: readonly ServiceLogLine['level'][] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

export class ServiceLogsStreamQueryDto {
  /** this level and above */
  @IsOptional()
  @IsIn(LOG_LEVELS, { message: `level must be one of ${LOG_LEVELS.join(', ')}` })
  level?: ServiceLogLine['level'];

  @IsOptional()
  @Matches(/^[a-z][a-z0-9-]{0,31}$/, { message: 'app must be an app name such as gateway, auth, key-pool or admin' })
  app?: string;

  /** the lines written for one request: its `x-request-id` */
  @IsOptional()
  @Matches(/^[A-Za-z0-9._:-]{1,128}$/, { message: 'requestId must be a request id (x-request-id)' })
  requestId?: string;
}

export class ServiceLogsQueryDto extends ServiceLogsStreamQueryDto {
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be an integer' })
  @Min(1)
  @Max(1000)
  limit?: number;
}
