import { Injectable, type OnApplicationBootstrap, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { PoolEvent } from '@gg/contracts';
import { RpcClient, runOutsideRequest } from '@gg/nest-common';
import { PoolStateService } from './pool-state.service';

/** Changes published at most this often. */
export const PUBLISH_MIN_INTERVAL_MS = 50;
/** The snapshot is published this often anyway, so a gateway that missed an event (pub/sub) catches up. */
export const RECONCILE_INTERVAL_MS = 5000;

/** Pushes `PoolEvent.SnapshotChanged` (the full PoolSnapshot) to every gateway after each change and periodically. */
@Injectable()
export class SnapshotPublisher implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private timer: NodeJS.Timeout | null = null;
  private reconcile: NodeJS.Timeout | null = null;
  private lastPublishedAt = 0;
  private closed = false;

  constructor(
    private readonly pool: PoolStateService,
    private readonly rpc: RpcClient,
  ) {}

  onModuleInit(): void {
    this.pool.onChange(() => this.schedule());
  }

  onApplicationBootstrap(): void {
    this.publishNow();
    this.reconcile = setInterval(() => {
      this.pool.prune();
      this.publishNow();
    }, RECONCILE_INTERVAL_MS);
    this.reconcile.unref();
  }

  onModuleDestroy(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.reconcile) clearInterval(this.reconcile);
    this.timer = this.reconcile = null;
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    const wait = Math.max(0, this.lastPublishedAt + PUBLISH_MIN_INTERVAL_MS - Date.now());
    // one snapshot for the changes of many requests (and every gateway): it names none of them
    this.timer = runOutsideRequest(() => setTimeout(() => this.publishNow(), wait));
    this.timer.unref();
  }

  private publishNow(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.lastPublishedAt = Date.now();
    this.rpc.emit(PoolEvent.SnapshotChanged, this.pool.snapshot(this.lastPublishedAt));
  }
}
