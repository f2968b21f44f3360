import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { SettingsEvent, type SettingsView } from '@gg/contracts';
import { NsEventPattern } from '@gg/nest-common';
import { RuntimeSettings } from './runtime-settings.service';

/** Every gateway replica takes the runtime settings key-pool pushes. */
@Controller()
export class SettingsEventsController {
  constructor(private readonly settings: RuntimeSettings) {}

  @NsEventPattern(SettingsEvent.Changed)
  changed(@Payload() view: SettingsView): void {
    this.settings.accept(view);
  }
}
