import { Logger } from '@nestjs/common';
import { AuthPattern, type LegacyKeysAnswer } from '@gg/contracts';
import type { RpcClient } from '@gg/nest-common';

const REFRESH_MS = 60_000;
const RETRY_MS = 5_000;
const AFTER_CHANGE_MS = 1_000;

/**
 * Whether legacy-format keys (`gg-`, plain checksum: anyone can make one that passes) may still be real: auth
 * counts them. While it says none, the gateway refuses every legacy-format key without a lookup; until it has
 * answered, legacy keys are looked up (and their failures count against the client address as any other).
 * Asked at start, every minute, and shortly after keys change (a rotation or deletion may remove the last one).
 */
export class LegacyKeyGate {
  private readonly logger = new Logger(LegacyKeyGate.name);
  private open = true;
  private timer?: NodeJS.Timeout;
  private soon?: NodeJS.Timeout;
  private stopped = false;
  private failing = false;

  constructor(private readonly rpc: Pick<RpcClient, 'send'>) {}

  get accepting(): boolean {
    return this.open;
  }

  start(): void {
    this.stopped = false;
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), REFRESH_MS);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.soon);
    this.soon = undefined;
  }

  /** Keys changed: ask again shortly (a burst of changes makes one ask). */
  poke(delayMs = AFTER_CHANGE_MS): void {
    if (this.soon || this.stopped) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      void this.refresh();
    }, delayMs);
    this.soon.unref();
  }

  async refresh(): Promise<void> {
    try {
      const answer = await this.rpc.send<LegacyKeysAnswer>(AuthPattern.KeyLegacyCount, {}, 3000);
      const open = typeof answer?.legacyKeys === 'number' ? answer.legacyKeys > 0 : true;
      if (open !== this.open) this.logger.log(`legacy-format user keys ${open ? 'accepted' : 'refused: none left'}`);
      this.open = open;
      this.failing = false;
    } catch (e) {
      // the answer so far stands (open until auth has said otherwise); one warning per outage
      if (!this.failing) this.logger.warn(`could not ask auth about legacy keys: ${(e as Error).message}`);
      this.failing = true;
      this.poke(RETRY_MS);
    }
  }
}
