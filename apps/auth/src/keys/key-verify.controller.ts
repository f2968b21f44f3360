import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { type AuthKeyRecord, AuthPattern } from '@gg/contracts';
import { NsMessagePattern } from '@gg/nest-common';
import { KeyVerifyDto } from './keys.dto';
import { KeysService } from './keys.service';

/** The gateway's lookup on an auth cache miss (no caller: the gateway is trusted). */
@Controller()
export class KeyVerifyController {
  constructor(private readonly keys: KeysService) {}

  @NsMessagePattern(AuthPattern.KeyVerify)
  verify(@Payload() req: KeyVerifyDto): Promise<AuthKeyRecord | null> {
    return this.keys.verify(req.hash);
  }
}
