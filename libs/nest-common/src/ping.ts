import { Controller, type Type } from '@nestjs/common';
import { NsMessagePattern } from './transport';

/** A controller answering `{ ok: true }` to the service's ping pattern, for the readiness checks of its callers. */
export function pingController(pattern: string): Type<unknown> {
  @Controller()
  class PingController {
    @NsMessagePattern(pattern)
    ping(): { ok: true } {
      return { ok: true };
    }
  }
  return PingController;
}
