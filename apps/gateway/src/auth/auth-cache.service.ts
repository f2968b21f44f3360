import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@gg/config';
import { AuthPattern, type AuthKeyRecord, type KeyChangedEvent, type KeyVerifyRequest } from '@gg/contracts';
import { hashUserKey, RpcClient, verifyUserKeyChecksum } from '@gg/nest-common';

interface Entry {
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
  private readonly entries = new Map<string, Entry>();
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
    if (!verifyUserKeyChecksum(key)) return { ok: false, reason: 'malformed' };
    const hash = hashUserKey(key, this.config.keyHashSecret);
    const hit = this.entries.get(hash);
    if (hit && hit.expiresAt > now) return judge(hit.record, now);
    return this.lookup(hash).then(
      (record) => judge(record, Date.now()),
      () => ({ ok: false, reason: 'unavailable' }) as AuthResult,
    );
  }

  invalidate(event: KeyChangedEvent): void {
    this.generation++;
    if (!event.hashes || event.hashes.length === 0) {
      this.entries.clear();
      return;
    }
    for (const h of event.hashes) this.entries.delete(h);
  }

  private lookup(hash: string): Promise<AuthKeyRecord | null> {
    let p = this.pending.get(hash);
    if (p) return p;
    const generation = this.generation;
    p = this.rpc
      .send<AuthKeyRecord | null>(AuthPattern.KeyVerify, { hash } satisfies KeyVerifyRequest, 3000)
      .then((record) => {
        if (generation === this.generation) this.store(hash, record ?? null);
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

  private store(hash: string, record: AuthKeyRecord | null): void {
    if (this.entries.size >= MAX_ENTRIES) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    const ttl = record ? this.config.authCacheTtlMs : NEGATIVE_TTL_MS;
    this.entries.set(hash, { record, expiresAt: Date.now() + ttl });
  }
}

function judge(record: AuthKeyRecord | null, now: number): AuthResult {
  if (!record) return { ok: false, reason: 'unknown' };
  if (!record.isActive) return { ok: false, reason: 'inactive' };
  if (record.expiresAt !== null && record.expiresAt <= now) return { ok: false, reason: 'expired' };
  return { ok: true, record };
}
