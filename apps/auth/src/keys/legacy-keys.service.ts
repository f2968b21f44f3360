import { Inject, Injectable } from '@nestjs/common';
import { isLegacyUserKeyPrefix } from '@gg/contracts';
import { type AuthKeyRow, DB_MANAGER, type DbManager } from '@gg/db';

/** how long a count is reused; key changes made here drop it at once */
const CACHE_MS = 30_000;

/**
 * How many stored secrets may be legacy-format (`gg-`, plain checksum, forgeable): the gateways accept such keys
 * only while this is above 0. A key counts when its displayed prefix is legacy, and a previous secret kept by a
 * rotation with grace counts while the grace lasts (its format is not stored, so it is assumed legacy). No legacy
 * key is ever issued again, so the count only goes down.
 */
@Injectable()
export class LegacyKeysService {
  private cached: { count: number; at: number } | null = null;
  private pending: Promise<number> | null = null;
  private generation = 0;

  constructor(@Inject(DB_MANAGER) private readonly db: DbManager) {}

  count(now = Date.now()): Promise<number> {
    if (this.cached && now - this.cached.at < CACHE_MS) return Promise.resolve(this.cached.count);
    if (this.pending) return this.pending;
    const generation = this.generation;
    const p = this.compute(now)
      .then((count) => {
        if (generation === this.generation) this.cached = { count, at: now };
        return count;
      })
      .finally(() => {
        if (this.pending === p) this.pending = null;
      });
    this.pending = p;
    return p;
  }

  /** A key was rotated or deleted: count again on the next ask. */
  changed(): void {
    this.generation++;
    this.cached = null;
    this.pending = null;
  }

  private async compute(now: number): Promise<number> {
    let count = 0;
    for (const user of await this.db.users.list()) {
      for (const row of await this.db.authKeys.listByUser(user.id)) if (mayBeLegacy(row, now)) count++;
    }
    return count;
  }
}

function mayBeLegacy(row: AuthKeyRow, now: number): boolean {
  if (isLegacyUserKeyPrefix(row.prefix)) return true;
  return row.previousHash !== null && row.previousHashExpiresAt !== null && Date.parse(row.previousHashExpiresAt) > now;
}
