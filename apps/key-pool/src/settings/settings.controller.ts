import { Controller, UseGuards } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { SettingsPattern, type SettingsUpdateResult, type SettingsView } from '@gg/contracts';
import { NsMessagePattern } from '@gg/nest-common';
import { AdminProofGuard } from '../rpc/admin-proof.guard';
import { SettingsService } from './settings.service';

/** `settings.get` (any app: nothing in the settings is secret) and `settings.update` (an admin, by caller proof). */
@Controller()
export class SettingsController {
  constructor(private readonly settings: SettingsService) {}

  @NsMessagePattern(SettingsPattern.Get)
  get(): SettingsView {
    return this.settings.view();
  }

  /**
   * Typed `unknown` so that the global ValidationPipe lets it through: the whole patch is validated by the shared
   * schema together with what is stored (pinned settings, backoff cap against its base), all or nothing.
   */
  @NsMessagePattern(SettingsPattern.Update)
  @UseGuards(AdminProofGuard)
  update(@Payload() payload: unknown): Promise<SettingsUpdateResult> {
    return this.settings.update((payload as { patch?: unknown } | null)?.patch);
  }
}
