import { IsIn, IsOptional } from 'class-validator';
import type { StatsWindow } from '@gg/contracts';

const WINDOWS: readonly StatsWindow[] = ['1h', '24h', '7d'];

export class StatsQueryDto {
  @IsOptional()
  @IsIn(WINDOWS, { message: 'window must be one of 1h, 24h, 7d' })
  window: StatsWindow = '24h';
}
