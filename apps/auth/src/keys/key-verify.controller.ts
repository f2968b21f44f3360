import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { type AuthKeyRecord, AuthPattern, type LegacyKeysAnswer } from '@gg/contracts';
import { NsMessagePattern } from '@gg/nest-common';
import { KeyVerifyDto } from './keys.dto';
import { KeysService } from './keys.service';
import { LegacyKeysService } from './legacy-keys.service';

/** The gateway's lookup on an auth cache miss (no caller: the gateway is trusted). */
@Controller()
export class KeyVerifyController {
  constructor(
    private readonly keys: KeysService,
    private readonly legacy: LegacyKeysService,
  ) {}

  @NsMessagePattern(AuthPattern.KeyVerify)
  verify(@Payload() req: KeyVerifyDto): Promise<AuthKeyRecord | null> {
    return this.keys.verify(req.hash);
  }

  /** Whether the gateways must still look up legacy-format keys (they refuse them unasked at 0). */
  @NsMessagePattern(AuthPattern.KeyLegacyCount)
  async legacyCount(): Promise<LegacyKeysAnswer> {
    return { legacyKeys: await this.legacy.count() };
  }
}
