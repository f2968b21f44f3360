import { Module } from '@nestjs/common';
import { CallerGuard } from '../common/caller.guard';
import { EventsModule } from '../events/events.module';
import { KeyVerifyController } from './key-verify.controller';
import { KeysController } from './keys.controller';
import { KeysService } from './keys.service';
import { LegacyKeysService } from './legacy-keys.service';

@Module({
  imports: [EventsModule],
  controllers: [KeysController, KeyVerifyController],
  providers: [KeysService, LegacyKeysService, CallerGuard],
})
export class KeysModule {}
