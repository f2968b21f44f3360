import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@gg/config';
import { AuthPattern, type AuthKeyRecord, type KeyChangedEvent, type KeyVerifyRequest } from '@gg/contracts';
import { hashUserKey, RpcClient, verifyUserKeyChecksum } from '@gg/nest-common';

interface Entry {
  hash: string;
  record: AuthKeyRecord | null;
  expiresAt: number;
}

export type AuthResult =
  | { ok: true; record: AuthKeyRecord }
  | { ok: false; reason: 'missing' | 'malformed' | 'unknown' | 'inactive' | 'expired' | 'unavailable' };

const NEGATIVE_TTL_MS = 5_000;
const MAX_ENTRIES = 100_000;

/**
 * The gateway's view of user keys: key hash -> record, filled by one RPC to auth on a miss (concurrent misses
 * share it), dropped on `auth.key.changed`, with a short TTL as the backstop and a small negative cache.
 * Keys with a bad checksum are refused with no lookup at all.
 */
@Injectable()
export class AuthCacheService {
  private readonly logger = new Logger(AuthCacheService.name);
  /** by the key as presented: the steady state is one map lookup, no hashing (the secret never leaves memory) */
  private readonly entries = new Map<string, Entry>();
  /** hash -> key as presented, to drop entries on change events */
  private readonly byHash = new Map<string, string>();
  private readonly pending = new Map<string, Promise<AuthKeyRecord | null>>();
  /** bumped on every invalidation, so a lookup that raced with one is not cached */
  private generation = 0;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly rpc: RpcClient,
  ) {}

  /** Synchronous when cached: the steady state makes no call to auth. */
  authenticate(key: string | null, now: number): AuthResult | Promise<AuthResult> {
    if (!key) return { ok: false, reason: 'missing' };
    const hit = this.entries.get(key);
    if (hit && hit.expiresAt > now) return judge(hit.record, now);
    if (!verifyUserKeyChecksum(key)) return { ok: false, reason: 'malformed' };
    const hash = hit?.hash ?? hashUserKey(key, this.config.keyHashSecret);
    return this.lookup(key, hash).then(
      (record) => judge(record, Date.now()),
      () => ({ ok: false, reason: 'unavailable' }) as AuthResult,
    );
  }

  invalidate(event: KeyChangedEvent): void {
    this.generation++;
    if (!event.hashes || event.hashes.length === 0) {
      this.entries.clear();
      this.byHash.clear();
      return;
    }
    for (const h of event.hashes) {
      const key = this.byHash.get(h);
      if (key === undefined) continue;
      this.byHash.delete(h);
      this.entries.delete(key);
    }
  }

  private lookup(key: string, hash: string): Promise<AuthKeyRecord | null> {
    let p = this.pending.get(hash);
    if (p) return p;
    const generation = this.generation;
    p = this.rpc
      .send<AuthKeyRecord | null>(AuthPattern.KeyVerify, { hash } satisfies KeyVerifyRequest, 3000)
      .then((record) => {
        if (generation === this.generation) this.store(key, hash, record ?? null);
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
    if (this.entries.size >= MAX_ENTRIES && !this.entries.has(key)) {
      const oldest = this.entries.entries().next().value;
      if (oldest !== undefined) {
        this.entries.delete(oldest[0]);
        this.byHash.delete(oldest[1].hash);
      }
    }
    const ttl = record ? this.config.authCacheTtlMs : NEGATIVE_TTL_MS;
    this.entries.set(key, { hash, record, expiresAt: Date.now() + ttl });
    this.byHash.set(hash, key);
  }
}

function judge(record: AuthKeyRecord | null, now: number): AuthResult {
  if (!record) return { ok: false, reason: 'unknown' };
  if (!record.isActive) return { ok: false, reason: 'inactive' };
  if (record.expiresAt !== null && record.expiresAt <= now) return { ok: false, reason: 'expired' };
  return { ok: true, record };
}
