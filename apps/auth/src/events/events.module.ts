import { Module } from '@nestjs/common';
import { RpcClient } from '@gg/nest-common';
import { AuthEventsService } from './auth-events.service';

/** One Redis transport client for the events auth emits. */
@Module({
  providers: [RpcClient, AuthEventsService],
  exports: [AuthEventsService, RpcClient],
})
export class EventsModule {}
