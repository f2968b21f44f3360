import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { LRUCache } from 'lru-cache';
import { Counter } from 'prom-client';
import { APP_CONFIG, type AppConfig } from '@gg/config';
import { AuthPattern, type AuthKeyRecord, type KeyChangedEvent, type KeyVerifyRequest } from '@gg/contracts';
import {
  checkUserKey,
  clientAddress,
  compileTrust,
  DebugLog,
  hashUserKey,
  RpcClient,
  type TrustFn,
} from '@gg/nest-common';
import { GatewayMetrics } from '../http/gateway-metrics';
import { AuthFailureLimiter } from './failure-limiter';
import { LegacyKeyGate } from './legacy-key-gate';

interface Known {
  hash: string;
  record: AuthKeyRecord;
  expiresAt: number;
}

export type AuthResult =
  | { ok: true; record: AuthKeyRecord }
  | { ok: false; reason: 'missing' | 'malformed' | 'unknown' | 'inactive' | 'expired' | 'unavailable' }
  /** too many failed authentications from this client address: retry after `retryAfter` seconds */
  | { ok: false; reason: 'throttled'; retryAfter: number };

const NEGATIVE_TTL_MS = 5_000;
/** keys auth knows (active or not) */
const MAX_KNOWN = 100_000;
/** keys auth said it does not know: kept apart, so they can never push a known key out */
const MAX_UNKNOWN = 10_000;

type AuthRefusal = Exclude<AuthResult, { ok: true }>;

const MISSING: AuthRefusal = { ok: false, reason: 'missing' };
const MALFORMED: AuthRefusal = { ok: false, reason: 'malformed' };
const UNKNOWN: AuthRefusal = { ok: false, reason: 'unknown' };
const UNAVAILABLE: AuthRefusal = { ok: false, reason: 'unavailable' };

/**
 * The gateway's view of user keys. Known keys (key as presented -> record) and unknown ones (-> expiry) live in two
 * bounded LRUs, filled by one RPC to auth on a miss (concurrent misses share it), dropped on `auth.key.changed`,
 * with a short TTL as the backstop. A key whose checksum fails is refused with no lookup: a current-format key
 * carries an HMAC only the secret holder can make, so forged keys cost no RPC and no cache entry. A client
 * address with too many refused keys (`AuthFailureLimiter`) is refused for a while before any work.
 */
@Injectable()
export class AuthCacheService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(AuthCacheService.name);
  /** "auth cache" lines: hit, miss, negative (a key auth said it does not know), forged (checksum failed) */
  private readonly debug = new DebugLog(AuthCacheService.name);
  /** by the key as presented: the steady state is one map lookup, no hashing (the secret never leaves memory) */
  private readonly known = new LRUCache<string, Known>({
    max: MAX_KNOWN,
    dispose: (entry, key, reason) => {
      if (reason !== 'set' && this.byHash.get(entry.hash) === key) this.byHash.delete(entry.hash);
    },
  });
  /** key as presented -> when the "unknown" answer stops being trusted */
  private readonly unknown = new LRUCache<string, number>({ max: MAX_UNKNOWN });
  /** hash -> key as presented, to drop known entries on change events (as big as `known`) */
  private readonly byHash = new Map<string, string>();
  private readonly pending = new Map<string, Promise<AuthKeyRecord | null>>();
  /** bumped on every invalidation, so a lookup that raced with one is not cached */
  private generation = 0;
  private readonly trust: TrustFn;
  private readonly failures = new AuthFailureLimiter();
  readonly legacy: LegacyKeyGate;
  private readonly lookups: Counter;
  private readonly refused: Counter<'reason'>;
  private readonly refusedBy = new Map<string, { inc(): void }>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly rpc: RpcClient,
    metrics: GatewayMetrics,
  ) {
    this.trust = compileTrust(config.trustedProxies ?? []);
    this.legacy = new LegacyKeyGate(rpc);
    this.lookups = new Counter({
      name: 'gateway_auth_lookups_total',
      help: 'User key lookups sent to auth (cache misses whose checksum passed)',
      registers: [metrics.registry],
    });
    this.refused = new Counter({
      name: 'gateway_auth_refused_total',
      help: 'Refused user keys by reason (malformed: checksum failed, no lookup made)',
      labelNames: ['reason'],
      registers: [metrics.registry],
    });
  }

  onApplicationBootstrap(): void {
    this.legacy.start();
  }

  onModuleDestroy(): void {
    this.legacy.stop();
  }

  /** Synchronous when cached or refused outright: the steady state makes no call to auth. */
  authenticate(key: string | null, now: number, req: IncomingMessage): AuthResult | Promise<AuthResult> {
    if (!key) return MISSING;
    const hit = this.known.get(key);
    if (hit !== undefined && hit.expiresAt > now) {
      if (this.debug.on) this.debug.line('auth cache', { result: 'hit', authKeyId: hit.record.id });
      return judge(hit.record, now);
    }
    const address = clientAddress(req, this.trust);
    const wait = this.failures.blockedFor(address, now);
    if (wait > 0) {
      if (this.debug.on) this.debug.line('auth cache', { result: 'throttled', client: address, retryAfter: wait });
      return this.refuse(address, now, { ok: false, reason: 'throttled', retryAfter: wait });
    }
    const unknownUntil = this.unknown.get(key);
    if (unknownUntil !== undefined && unknownUntil > now) {
      if (this.debug.on) this.debug.line('auth cache', { result: 'negative', client: address });
      return this.refuse(address, now, UNKNOWN);
    }
    if (hit === undefined) {
      const format = checkUserKey(key, this.config.keyHashSecret);
      if (format === null || (format === 'legacy' && !this.legacy.accepting)) {
        if (this.debug.on) this.debug.line('auth cache', { result: 'forged', client: address, lookup: false });
        return this.refuse(address, now, MALFORMED);
      }
    }
    const hash = hit?.hash ?? hashUserKey(key, this.config.keyHashSecret);
    if (this.debug.on) {
      const why = hit === undefined ? 'not cached' : 'expired';
      this.debug.line('auth cache', { result: 'miss', why, lookup: this.pending.has(hash) ? 'shared' : 'rpc' });
    }
    return this.lookup(key, hash).then(
      (record) => (record ? judge(record, Date.now()) : this.refuse(address, Date.now(), UNKNOWN)),
      () => UNAVAILABLE,
    );
  }

  invalidate(event: KeyChangedEvent): void {
    this.generation++;
    this.legacy.poke();
    if (!event.hashes || event.hashes.length === 0) {
      this.known.clear();
      this.unknown.clear();
      this.byHash.clear();
      return;
    }
    for (const h of event.hashes) {
      const key = this.byHash.get(h);
      if (key === undefined) continue;
      this.byHash.delete(h);
      this.known.delete(key);
    }
  }

  /** How many keys are held (known, unknown): for tests and diagnostics. */
  get sizes(): { known: number; unknown: number } {
    return { known: this.known.size, unknown: this.unknown.size };
  }

  /** A key that is not (or no longer) a key counts against its address; the block itself does not. */
  private refuse(address: string, now: number, result: AuthRefusal): AuthRefusal {
    if (result.reason !== 'throttled') this.failures.fail(address, now);
    let c = this.refusedBy.get(result.reason);
    if (!c) this.refusedBy.set(result.reason, (c = this.refused.labels(result.reason)));
    c.inc();
    return result;
  }

  private lookup(key: string, hash: string): Promise<AuthKeyRecord | null> {
    let p = this.pending.get(hash);
    if (p) return p;
    const generation = this.generation;
    this.lookups.inc();
    const sentAt = this.debug.on ? performance.now() : 0;
    p = this.rpc
      .send<AuthKeyRecord | null>(AuthPattern.KeyVerify, { hash } satisfies KeyVerifyRequest, 3000)
      .then((record) => {
        if (generation === this.generation) this.store(key, hash, record ?? null);
        if (this.debug.on)
          this.debug.line('auth lookup', lookupLine(record ?? null, sentAt, generation === this.generation));
        return record ?? null;
      })
      .catch((e) => {
        this.logger.warn(`user key lookup failed: ${(e as Error).message}`);
        throw e;
      })
      .finally(() => this.pending.delete(hash));
    this.pending.set(hash, p);
    return p;
  }

  private store(key: string, hash: string, record: AuthKeyRecord | null): void {
    const now = Date.now();
    if (!record) {
      this.known.delete(key);
      this.unknown.set(key, now + NEGATIVE_TTL_MS);
      return;
    }
    this.unknown.delete(key);
    this.known.set(key, { hash, record, expiresAt: now + this.config.authCacheTtlMs });
    this.byHash.set(hash, key);
  }
}

/** "auth lookup": auth's answer to one RPC (ids only), how long it took, whether it was cached. */
function lookupLine(record: AuthKeyRecord | null, sentAt: number, cached: boolean): object {
  return {
    found: record !== null,
    ...(record ? { authKeyId: record.id, userId: record.userId, active: record.isActive } : {}),
    ms: Math.round((performance.now() - sentAt) * 10) / 10,
    // an invalidation raced with the lookup: the answer serves the waiting requests but is not kept
    cached,
  };
}

function judge(record: AuthKeyRecord, now: number): AuthResult {
  if (!record.isActive) return { ok: false, reason: 'inactive' };
  if (record.expiresAt !== null && record.expiresAt <= now) return { ok: false, reason: 'expired' };
  return { ok: true, record };
}
