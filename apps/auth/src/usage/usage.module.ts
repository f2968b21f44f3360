import { Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module';
import { UsageJournalReclaimer } from './usage-journal-reclaimer.service';
import { UsageQueueMetrics } from './usage-queue.metrics';
import { UsageService } from './usage.service';
import { UsageWorker } from './usage.worker';

@Module({
  imports: [EventsModule],
  providers: [UsageService, UsageWorker, UsageQueueMetrics, UsageJournalReclaimer],
  exports: [UsageWorker],
})
export class UsageModule {}
