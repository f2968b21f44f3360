import { Module } from '@nestjs/common';
import { CallerGuard } from '../common/caller.guard';
import { LogRetentionService } from './log-retention.service';
import { LogsController } from './logs.controller';
import { LogsService } from './logs.service';

@Module({
  controllers: [LogsController],
  providers: [LogsService, LogRetentionService, CallerGuard],
})
export class LogsModule {}
