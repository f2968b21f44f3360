import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { AuthEvent, PoolEvent, type KeyChangedEvent, type PoolSnapshot } from '@gg/contracts';
import { NsEventPattern } from '@gg/nest-common';
import { AuthCacheService } from './auth/auth-cache.service';
import { LiveRelay } from './live/live-relay.service';
import { PoolSnapshotService } from './pool/pool-snapshot.service';

/** Notifications every gateway replica receives: user key changes and pool snapshots. */
@Controller()
export class EventsController {
  constructor(
    private readonly auth: AuthCacheService,
    private readonly pool: PoolSnapshotService,
    private readonly live: LiveRelay,
  ) {}

  @NsEventPattern(AuthEvent.KeyChanged)
  keyChanged(@Payload() event: KeyChangedEvent): void {
    this.auth.invalidate(event);
    // after the cache dropped them: the open Live sessions of these keys check them again
    this.live.keyChanged(event);
  }

  @NsEventPattern(PoolEvent.SnapshotChanged)
  snapshotChanged(@Payload() snapshot: PoolSnapshot): void {
    this.pool.accept(snapshot);
  }
}
