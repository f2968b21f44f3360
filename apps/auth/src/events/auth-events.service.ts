import { Injectable, Logger } from '@nestjs/common';
import { AuthEvent, type KeyChangedEvent, type RequestLog } from '@gg/contracts';
import { RpcClient } from '@gg/nest-common';

/** The notifications auth sends over the Redis transport (at most once; gateways also expire their cache). */
@Injectable()
export class AuthEventsService {
  private readonly logger = new Logger(AuthEventsService.name);

  constructor(private readonly rpc: RpcClient) {}

  /** Gateways drop these user key hashes from their auth cache. */
  keyChanged(hashes: string[]): void {
    if (hashes.length === 0) return;
    const event: KeyChangedEvent = { hashes };
    this.rpc.emit(AuthEvent.KeyChanged, event);
    this.logger.debug({ count: hashes.length }, 'emitted key changed');
  }

  /** New request log rows, for the admin's live log stream. Payload: `RequestLog[]`. */
  logsAppended(logs: RequestLog[]): void {
    if (logs.length === 0) return;
    this.rpc.emit(AuthEvent.LogsAppended, logs);
  }
}
