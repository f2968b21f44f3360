import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@gg/config';
import {
  PoolPattern,
  type AttemptOutcome,
  type PoolSnapshot,
  type SnapshotKey,
  type SnapshotProxy,
} from '@gg/contracts';
import {
  applyOutcomeToSnapshot,
  availableAt,
  defaultKeyPolicy,
  earliestAvailableAt,
  KeySelector,
  keyPolicyFrom,
  normalizeModel,
  type KeyPolicy,
} from '@gg/key-state';
import { RpcClient } from '@gg/nest-common';
import { Gauge } from 'prom-client';
import { GatewayMetrics } from '../http/gateway-metrics';
import { RuntimeSettings } from '../settings/runtime-settings.service';

const RECONCILE_MS = 5_000;
const NO_PROXIES: readonly SnapshotProxy[] = [];
/** a local penalty key-pool never acknowledged (lost event, restarted key-pool) stops being re-applied after this */
const UNACKED_MAX_AGE_MS = 30_000;

/**
 * The gateway's copy of the pool: pushed by key-pool on every change, reconciled every few seconds, and updated
 * locally at once with each attempt's outcome (so the next request already avoids a key that just failed).
 * Selection happens here, in memory, per request.
 */
@Injectable()
export class PoolSnapshotService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(PoolSnapshotService.name);
  private snapshot: PoolSnapshot = { version: -1, pausedUntil: 0, keys: [] };
  private readonly inFlight = new Map<string, number>();
  /** this gateway, as it reports to key-pool */
  readonly gatewayId = randomUUID();
  /** penalties applied locally that key-pool has not acknowledged in a snapshot yet */
  private unacked: { outcome: AttemptOutcome; seq?: number }[] = [];
  private selector: KeySelector;
  private policy: KeyPolicy;
  private reconcileTimer?: NodeJS.Timeout;
  private readonly inFlightOf = (id: string): number => this.inFlight.get(id) ?? 0;
  /** bumped when the local in-flight map changes, for the reporter */
  inFlightVersion = 0;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly rpc: RpcClient,
    metrics: GatewayMetrics,
    settings?: RuntimeSettings,
  ) {
    this.selector = new KeySelector(config.keySelection, config.keyMaxConcurrency);
    this.policy = defaultKeyPolicy(config.keyMaxFailures);
    // the runtime settings' selection, per-key concurrency and key policy, from now on (a new selector starts its
    // round-robin turn afresh)
    settings?.onChange((v) => {
      this.selector = new KeySelector(v.keySelection, v.keyMaxConcurrency);
      this.policy = keyPolicyFrom(v);
    });
    this.registerMetrics(metrics);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.reconcile();
    this.reconcileTimer = setInterval(() => void this.reconcile(), RECONCILE_MS);
    this.reconcileTimer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.reconcileTimer);
  }

  get ready(): boolean {
    return this.snapshot.version >= 0;
  }

  get keys(): readonly SnapshotKey[] {
    return this.snapshot.keys;
  }

  /** The upstream proxy list (empty: UPSTREAM_PROXY or direct); the same array until a new snapshot comes. */
  get proxies(): readonly SnapshotProxy[] {
    return this.snapshot.proxies ?? NO_PROXIES;
  }

  /** Take a pushed or fetched snapshot unless it is older than the one held. */
  accept(snapshot: PoolSnapshot): void {
    if (!snapshot || !Array.isArray(snapshot.keys)) return;
    if (snapshot.version < this.snapshot.version && this.snapshot.version - snapshot.version < 1_000_000) return;
    // Our own penalties key-pool has not applied yet go on top: a push that left before them must not undo them.
    const ack = snapshot.applied?.[this.gatewayId] ?? -1;
    const oldest = Date.now() - UNACKED_MAX_AGE_MS;
    this.unacked = this.unacked.filter((u) => (u.seq === undefined || u.seq > ack) && u.outcome.at > oldest);
    this.snapshot = snapshot;
    for (const u of this.unacked) this.applyToSnapshot(u.outcome);
  }

  /** The reporter sent the outcomes applied locally so far in its batch `seq`. */
  stamp(seq: number): void {
    for (const u of this.unacked) if (u.seq === undefined) u.seq = seq;
  }

  /** Epoch ms until which the whole pool pauses (Google throttling the server), 0 when it doesn't. */
  pausedUntil(now: number): number {
    return this.snapshot.pausedUntil > now ? this.snapshot.pausedUntil : 0;
  }

  /** Epoch ms until which the model rests on every key (overloaded upstream), 0 when it doesn't. */
  modelPausedUntil(model: string | null, now: number): number {
    const rests = this.snapshot.modelPausedUntil;
    if (!rests || model === null) return 0;
    const until = rests[normalizeModel(model) ?? ''] ?? 0;
    return until > now ? until : 0;
  }

  /** Pick a key for the model, or null (always null while the pool pauses or the model rests). */
  pick(model: string | null, now: number, exclude?: ReadonlySet<string>): SnapshotKey | null {
    if (this.snapshot.pausedUntil > now) return null;
    if (this.snapshot.modelPausedUntil && this.modelPausedUntil(model, now) > 0) return null;
    return this.selector.pick(this.snapshot.keys as SnapshotKey[], model, now, this.inFlightOf, exclude);
  }

  /** Epoch ms when a key should be usable for the model again (for Retry-After). */
  nextAvailableAt(model: string | null, now: number): number {
    const at = earliestAvailableAt(this.snapshot.keys as SnapshotKey[], model, now);
    return Math.max(at, this.snapshot.pausedUntil, this.modelPausedUntil(model, now));
  }

  acquire(keyId: string): void {
    this.inFlight.set(keyId, (this.inFlight.get(keyId) ?? 0) + 1);
    this.inFlightVersion++;
  }

  release(keyId: string): void {
    const n = (this.inFlight.get(keyId) ?? 1) - 1;
    if (n <= 0) this.inFlight.delete(keyId);
    else this.inFlight.set(keyId, n);
    this.inFlightVersion++;
  }

  inFlightCounts(): Record<string, number> {
    return Object.fromEntries(this.inFlight);
  }

  /** Apply an attempt's outcome to the local copy at once; key-pool's next push is authoritative. */
  applyLocal(outcome: AttemptOutcome): void {
    if (outcome.kind === 'success' || outcome.kind === 'client_error' || outcome.kind === 'affinity') return;
    this.unacked.push({ outcome });
    this.applyToSnapshot(outcome);
  }

  private applyToSnapshot(outcome: AttemptOutcome): void {
    const keys = this.snapshot.keys;
    for (let i = 0; i < keys.length; i++) {
      if (keys[i].id === outcome.keyId) {
        const next = keys.slice();
        next[i] = applyOutcomeToSnapshot(keys[i], outcome, outcome.at, this.policy);
        this.snapshot = { ...this.snapshot, keys: next };
        return;
      }
    }
  }

  /** This replica's copy of the pool on its `/metrics`, computed when scraped; no key id or secret in a label. */
  private registerMetrics(metrics: GatewayMetrics): void {
    const keys = (): readonly SnapshotKey[] => this.keys;
    const pausedUntil = (now: number): number => this.pausedUntil(now);
    new Gauge({
      name: 'gateway_pool_keys',
      help: "Pool keys by status in this replica's copy of the pool",
      labelNames: ['status'],
      registers: [metrics.registry],
      collect() {
        const now = Date.now();
        const counts = { active: 0, cooldown: 0, disabled: 0 };
        for (const k of keys()) {
          if (k.status === 'disabled') counts.disabled++;
          else if (availableAt(k, null, now) > now || Object.values(k.modelCooldowns).some((t) => t > now))
            counts.cooldown++;
          else counts.active++;
        }
        for (const [status, n] of Object.entries(counts)) this.set({ status }, n);
      },
    });
    new Gauge({
      name: 'gateway_pool_paused_seconds',
      help: 'Seconds left of a pool-wide pause as this replica knows it; 0 when the pool is not paused',
      registers: [metrics.registry],
      collect() {
        const now = Date.now();
        const until = pausedUntil(now);
        this.set(until > 0 ? (until - now) / 1000 : 0);
      },
    });
  }

  private async reconcile(): Promise<void> {
    try {
      this.accept(await this.rpc.send<PoolSnapshot>(PoolPattern.Snapshot, {}, 3000));
    } catch (e) {
      if (!this.ready) this.logger.warn(`pool snapshot not available yet: ${(e as Error).message}`);
    }
  }
}
