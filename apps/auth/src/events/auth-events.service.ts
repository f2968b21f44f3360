import { Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { AuthEvent, type KeyChangedEvent, type RequestLog } from '@gg/contracts';
import { RpcClient } from '@gg/nest-common';

/**
 * New request-log rows wait this long to go out together. Each usage job used to send its few rows at once: under the
 * bench's c=32 load that was ~450 publishes a second, and the sealing, the write to Redis and every admin replica's
 * decoding cost more CPU than the rest of applying the usage (auth 375 µs per request, admin 106). The live log is
 * read by people: a tenth of a second later is still live.
 */
export const LOGS_APPENDED_EVERY_MS = 100;
/** …or as soon as this many are waiting (one event stays a bounded message). */
export const LOGS_APPENDED_MAX_ROWS = 500;

/** The notifications auth sends over the Redis transport (at most once; gateways also expire their cache). */
@Injectable()
export class AuthEventsService implements BeforeApplicationShutdown {
  private readonly logger = new Logger(AuthEventsService.name);
  private pendingLogs: RequestLog[] = [];
  private logsTimer: NodeJS.Timeout | undefined;

  constructor(private readonly rpc: RpcClient) {}

  /** Gateways drop these user key hashes from their auth cache. */
  keyChanged(hashes: string[]): void {
    if (hashes.length === 0) return;
    const event: KeyChangedEvent = { hashes };
    this.rpc.emit(AuthEvent.KeyChanged, event);
    this.logger.debug({ count: hashes.length }, 'emitted key changed');
  }

  /**
   * New request log rows, for the admin's live log stream. Payload: `RequestLog[]`, sent within
   * LOGS_APPENDED_EVERY_MS with the other rows of that time.
   */
  logsAppended(logs: RequestLog[]): void {
    if (logs.length === 0) return;
    for (const log of logs) this.pendingLogs.push(log);
    if (this.pendingLogs.length >= LOGS_APPENDED_MAX_ROWS) this.sendLogs();
    else if (!this.logsTimer) {
      this.logsTimer = setTimeout(() => this.sendLogs(), LOGS_APPENDED_EVERY_MS);
      this.logsTimer.unref();
    }
  }

  /** What waits goes out after the usage worker has stopped and before the transport closes. */
  beforeApplicationShutdown(): void {
    this.sendLogs();
  }

  private sendLogs(): void {
    clearTimeout(this.logsTimer);
    this.logsTimer = undefined;
    if (this.pendingLogs.length === 0) return;
    const logs = this.pendingLogs;
    this.pendingLogs = [];
    this.rpc.emit(AuthEvent.LogsAppended, logs);
  }
}
