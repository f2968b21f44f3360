import { Inject, Injectable } from '@nestjs/common';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '@gg/config';
import { DB_MANAGER, type DbManager } from '@gg/db';
import { isSessionRevoked, revokeSession } from '../common/session-revocation';

/** What is stored under `refresh:<sha256 of the token>`; the token itself is never stored. */
export interface RefreshRecord {
  userId: string;
  family: string;
  tokenVersion: number;
  used: boolean;
  /** epoch ms */
  expiresAt: number;
}

export interface IssuedRefreshToken {
  token: string;
  expiresIn: number;
}

export function refreshTokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * Opaque refresh tokens in the db's kv store. A login starts a family; each refresh marks the presented token
 * used and issues the next one in the family. Presenting a used token revokes the family (reuse detection).
 */
@Injectable()
export class RefreshTokenStore {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(DB_MANAGER) private readonly db: DbManager,
  ) {}

  async issue(userId: string, tokenVersion: number, family: string = randomUUID()): Promise<IssuedRefreshToken> {
    const token = randomBytes(32).toString('base64url');
    const ttl = this.config.refreshTokenTtlSeconds;
    const record: RefreshRecord = { userId, family, tokenVersion, used: false, expiresAt: Date.now() + ttl * 1000 };
    await this.db.kv.set(recordKey(refreshTokenHash(token)), JSON.stringify(record), ttl);
    return { token, expiresIn: ttl };
  }

  /** The record of a live token, or null (unknown, expired). */
  async find(token: string): Promise<RefreshRecord | null> {
    const raw = await this.db.kv.get(recordKey(refreshTokenHash(token)));
    if (!raw) return null;
    const record = JSON.parse(raw) as RefreshRecord;
    return record.expiresAt > Date.now() ? record : null;
  }

  async markUsed(token: string, record: RefreshRecord): Promise<void> {
    await this.db.kv.set(
      recordKey(refreshTokenHash(token)),
      JSON.stringify({ ...record, used: true }),
      secondsLeft(record),
    );
  }

  /** Ends the session (the family id is the session id, `sid` in its access tokens): refresh and access tokens. */
  async revokeFamily(family: string): Promise<void> {
    await revokeSession(this.db, this.config, family);
  }

  isFamilyRevoked(family: string): Promise<boolean> {
    return isSessionRevoked(this.db, family);
  }

  async delete(token: string): Promise<void> {
    await this.db.kv.delete(recordKey(refreshTokenHash(token)));
  }
}

function recordKey(hash: string): string {
  return `refresh:${hash}`;
}

function secondsLeft(record: RefreshRecord): number {
  return Math.max(1, Math.ceil((record.expiresAt - Date.now()) / 1000));
}
