import { Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module';
import { UsageService } from './usage.service';
import { UsageWorker } from './usage.worker';

@Module({
  imports: [EventsModule],
  providers: [UsageService, UsageWorker],
  exports: [UsageWorker],
})
export class UsageModule {}
