import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { AuthEvent, PoolEvent, type KeyChangedEvent, type PoolSnapshot } from '@gg/contracts';
import { NsEventPattern } from '@gg/nest-common';
import { AuthCacheService } from './auth/auth-cache.service';
import { PoolSnapshotService } from './pool/pool-snapshot.service';

/** Notifications every gateway replica receives: user key changes and pool snapshots. */
@Controller()
export class EventsController {
  constructor(
    private readonly auth: AuthCacheService,
    private readonly pool: PoolSnapshotService,
  ) {}

  @NsEventPattern(AuthEvent.KeyChanged)
  keyChanged(@Payload() event: KeyChangedEvent): void {
    this.auth.invalidate(event);
  }

  @NsEventPattern(PoolEvent.SnapshotChanged)
  snapshotChanged(@Payload() snapshot: PoolSnapshot): void {
    this.pool.accept(snapshot);
  }
}
