import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@gg/config';
import type { AttemptOutcome, OutcomeKind, PoolSnapshot, SnapshotProxy } from '@gg/contracts';
import { DB_MANAGER, type DbManager } from '@gg/db';
import {
  applyOutcome,
  applyThrottled,
  defaultKeyPolicy,
  isPerDayReason,
  liftCooldownsWithin,
  mayStartRest,
  ModelRestDetector,
  parseState,
  PoolPauseDetector,
  type PoolPauseOptions,
  pruneExpired,
  toSnapshotKey,
  type KeyPolicy,
  type KeyState,
} from '@gg/key-state';
import { CryptoService } from '../secrets/crypto.service';
import type { PoolEntry } from './pool-entry';

/** kv entry holding the end (epoch ms) of a pool-wide pause, so that it outlives a restart */
export const PAUSE_KV_KEY = 'pool-pause-until';

/** Called with the ids whose state changed (empty: the pool itself changed, e.g. a key was added or removed). */
export type PoolChangeListener = (changedIds: string[]) => void;

/**
 * The single writer of pool state, in memory: every key with its decrypted secret and state machine state
 * (libs/key-state). Loads from the db at start; persisting and publishing are done by listeners of its changes
 * (StatePersister, SnapshotPublisher), so this class knows neither.
 */
const ACK_TTL_MS = 10 * 60_000;

@Injectable()
export class PoolStateService implements OnModuleInit {
  private readonly logger = new Logger(PoolStateService.name);
  private readonly entries = new Map<string, PoolEntry>();
  private readonly listeners: PoolChangeListener[] = [];
  private readonly outcomeListeners: ((kind: OutcomeKind) => void)[] = [];
  /** gatewayId -> last outcome batch applied (PoolSnapshot.applied) */
  private readonly applied = new Map<string, { seq: number; at: number }>();
  private policy: KeyPolicy;
  private readonly pause = new PoolPauseDetector();
  private readonly modelRest = new ModelRestDetector();
  /** epoch-ms based so that it keeps growing across restarts of key-pool (gateways ignore older snapshots) */
  private version = Date.now();
  /** the upstream proxy list and the keys' explicit bindings (ProxiesService), published with the keys */
  private proxies: { list: SnapshotProxy[]; bindings: ReadonlyMap<string, string> } = { list: [], bindings: new Map() };

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(DB_MANAGER) private readonly db: DbManager,
    private readonly crypto: CryptoService,
  ) {
    this.policy = defaultKeyPolicy(config.keyMaxFailures);
  }

  async onModuleInit(): Promise<void> {
    const rows = await this.db.poolKeys.list();
    for (const row of rows) {
      try {
        const secret = this.crypto.decrypt(row.secretEnc);
        this.entries.set(row.id, { ...row, secret, state: parseState(row.state) });
      } catch (e) {
        // kept in the db untouched; the admin can delete it, or restore the right ENCRYPTION_KEY
        this.logger.error({ keyId: row.id, err: (e as Error).message }, 'pool key skipped: its secret cannot be read');
      }
    }
    await this.restorePause();
    this.logger.log({ keys: this.entries.size }, 'pool loaded');
  }

  /** Takes the runtime settings' key policy and pause thresholds for the outcomes from now on. */
  configure(policy: KeyPolicy, pause: PoolPauseOptions): void {
    this.policy = policy;
    this.pause.configure(pause);
  }

  onChange(listener: PoolChangeListener): void {
    this.listeners.push(listener);
  }

  /** Called with the kind of every outcome applied (for metrics). */
  onOutcome(listener: (kind: OutcomeKind) => void): void {
    this.outcomeListeners.push(listener);
  }

  all(): PoolEntry[] {
    return [...this.entries.values()];
  }

  get(id: string): PoolEntry | undefined {
    return this.entries.get(id);
  }

  hasFingerprint(fingerprint: string): boolean {
    for (const e of this.entries.values()) if (e.fingerprint === fingerprint) return true;
    return false;
  }

  add(entries: PoolEntry[]): void {
    for (const e of entries) this.entries.set(e.id, e);
    if (entries.length > 0) this.changed([]);
  }

  remove(id: string): boolean {
    const had = this.entries.delete(id);
    if (had) this.changed([]);
    return had;
  }

  /** Replaces the state of the given keys with `fn(state)`; unknown ids are skipped. Returns the ids updated. */
  update(ids: string[], fn: (state: KeyState, now: number) => KeyState, now = Date.now()): string[] {
    const updated: string[] = [];
    for (const id of ids) {
      const entry = this.entries.get(id);
      if (!entry) continue;
      entry.state = fn(entry.state, now);
      updated.push(id);
    }
    if (updated.length > 0) this.changed(updated);
    return updated;
  }

  /**
   * Applies attempt outcomes reported by a gateway; outcomes of unknown (deleted) keys are dropped. When most of the
   * pool gets 429s within a few seconds, Google throttles the server rather than the keys: the pool pauses instead
   * of cooling every key down one after another (their fresh cooldowns are lifted; 429s during the pause cool
   * nothing). A per-day quota is the key's own and never counts as throttling. Transient failures are weighed
   * (libs/key-state attribution): those blamed on the request cost the key nothing, unconfirmed ones weigh once per
   * user, and no key starts a rest while half of the keys not disabled already rest. Overloaded answers for one
   * model from several keys and users rest the model, not the keys.
   */
  applyOutcomes(outcomes: AttemptOutcome[], now = Date.now(), gatewayId?: string, seq?: number): void {
    const changed = new Set<string>();
    if (gatewayId !== undefined && seq !== undefined) this.acknowledge(gatewayId, seq);
    // keys not disabled: counted once per batch, then kept up to date as outcomes disable keys (or not), rather
    // than counted over the whole pool for every outcome
    let usable = -1;
    for (const outcome of outcomes) {
      const entry = this.entries.get(outcome.keyId);
      if (!entry) continue;
      const throttled = outcome.kind === 'rate_limited' && this.pause.pausedUntil(now) > 0;
      const mayRest = outcome.kind !== 'transient' || mayStartRest(this.states(), now);
      const wasDisabled = Boolean(entry.state.disabled);
      entry.state = throttled
        ? applyThrottled(entry.state, outcome, now)
        : applyOutcome(entry.state, outcome, now, this.policy, Math.random, mayRest);
      if (usable >= 0 && Boolean(entry.state.disabled) !== wasDisabled) usable += wasDisabled ? 1 : -1;
      if (entry.state.disabled && !wasDisabled) {
        // the reason is the classification's short text (an upstream status), never the key
        this.logger.warn(
          { keyId: entry.id, reason: entry.state.disabledReason, requestId: outcome.requestId },
          'pool key disabled',
        );
      }
      changed.add(entry.id);
      for (const listener of this.outcomeListeners) listener(outcome.kind);
      const restedUntil = this.modelRest.record(outcome, now);
      if (restedUntil > 0) {
        this.logger.warn(
          { model: outcome.model, restedUntil: new Date(restedUntil).toISOString(), requestId: outcome.requestId },
          'the model is overloaded upstream: it rests',
        );
      }
      if (throttled || (outcome.kind === 'rate_limited' && isPerDayReason(outcome.reason))) continue;
      const wasPaused = this.pause.pausedUntil(now) > 0;
      if (usable < 0) usable = this.usableKeyCount();
      const until = this.pause.record(entry.id, outcome.kind, now, usable, outcome.retryDelayMs);
      if (until > 0 && !wasPaused) this.startPause(until, changed, outcome.requestId);
    }
    if (changed.size > 0) this.changed([...changed]);
  }

  /** Forgets cooldowns that ran out (called periodically); returns the ids whose state changed. */
  prune(now = Date.now()): string[] {
    const changed: string[] = [];
    for (const entry of this.entries.values()) {
      const next = pruneExpired(entry.state, now);
      if (next !== entry.state) {
        entry.state = next;
        changed.push(entry.id);
      }
    }
    if (changed.length > 0) this.changed(changed);
    return changed;
  }

  /** Ends a pool-wide pause (the admin reset every key). */
  clearPause(): void {
    this.pause.reset();
    this.modelRest.reset();
    this.db.kv
      .delete(PAUSE_KV_KEY)
      .catch((e: Error) => this.logger.warn({ err: e.message }, 'pool pause not cleared in the db'));
  }

  /** Epoch ms until which the whole pool pauses, 0 when it doesn't. */
  pausedUntil(now = Date.now()): number {
    return this.pause.pausedUntil(now);
  }

  /** The models resting (overloaded upstream) -> their end, epoch ms. */
  modelsResting(now = Date.now()): Record<string, number> {
    return this.modelRest.active(now);
  }

  /** The proxy list or a binding changed (ProxiesService): published with the next snapshot. */
  setProxies(list: SnapshotProxy[], bindings: ReadonlyMap<string, string>): void {
    this.proxies = { list, bindings };
    this.changed([]);
  }

  currentVersion(): number {
    return this.version;
  }

  /** Remembers the last batch applied per gateway (kept for a while after its last batch). */
  private acknowledge(gatewayId: string, seq: number): void {
    const now = Date.now();
    this.applied.set(gatewayId, { seq: Math.max(seq, this.applied.get(gatewayId)?.seq ?? -1), at: now });
    if (this.applied.size > 64) {
      for (const [id, a] of this.applied) if (now - a.at > ACK_TTL_MS) this.applied.delete(id);
    }
  }

  snapshot(now = Date.now()): PoolSnapshot {
    return {
      version: this.version,
      applied: Object.fromEntries([...this.applied].map(([id, a]) => [id, a.seq])),
      pausedUntil: this.pause.pausedUntil(now),
      modelPausedUntil: this.modelsResting(now),
      keys: this.all().map((e) => {
        const key = toSnapshotKey(e.id, e.secret, e.state, now);
        const proxyId = this.proxies.bindings.get(e.id);
        return proxyId ? { ...key, proxyId } : key;
      }),
      ...(this.proxies.list.length > 0 ? { proxies: this.proxies.list } : {}),
    };
  }

  /** `requestId`: the request whose failure tipped the pool into the pause. */
  private startPause(until: number, changed: Set<string>, requestId: string | undefined): void {
    for (const id of this.pause.evidence) {
      const entry = this.entries.get(id);
      if (!entry) continue;
      entry.state = liftCooldownsWithin(entry.state, until);
      changed.add(id);
    }
    this.logger.warn(
      { pausedUntil: new Date(until).toISOString(), keys: this.pause.evidence.length, requestId },
      'most keys are rate limited: the pool pauses',
    );
    const ttl = Math.max(1, Math.ceil((until - Date.now()) / 1000));
    this.db.kv
      .set(PAUSE_KV_KEY, String(until), ttl)
      .catch((e: Error) => this.logger.warn({ err: e.message }, 'pool pause not saved'));
  }

  private async restorePause(now = Date.now()): Promise<void> {
    try {
      const until = Number(await this.db.kv.get(PAUSE_KV_KEY));
      if (until > now) {
        this.pause.restore(until, now);
        this.logger.warn({ pausedUntil: new Date(until).toISOString() }, 'the pool-wide pause goes on');
      }
    } catch (e) {
      this.logger.warn({ err: (e as Error).message }, 'pool pause not read');
    }
  }

  private *states(): Iterable<KeyState> {
    for (const e of this.entries.values()) yield e.state;
  }

  private usableKeyCount(): number {
    let n = 0;
    for (const e of this.entries.values()) if (!e.state.disabled) n++;
    return n;
  }

  private changed(ids: string[]): void {
    this.version = Math.max(this.version + 1, Date.now());
    for (const listener of this.listeners) listener(ids);
  }
}
