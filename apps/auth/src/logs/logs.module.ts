import { Module } from '@nestjs/common';
import { CallerGuard } from '../common/caller.guard';
import { LogsController } from './logs.controller';
import { LogsService } from './logs.service';

@Module({
  controllers: [LogsController],
  providers: [LogsService, CallerGuard],
})
export class LogsModule {}
