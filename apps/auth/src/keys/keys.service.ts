import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '@gg/config';
import type { AuthKey, AuthKeyRecord, AuthKeyWithSecret, Caller, KeyLimits } from '@gg/contracts';
import { type AuthKeyPatch, type AuthKeyRow, DB_MANAGER, type DbManager } from '@gg/db';
import { DomainError, generateUserKey, hashUserKey } from '@gg/nest-common';
import { AuthEventsService } from '../events/auth-events.service';
import { toAuthKey, toKeyRecord } from './auth-key.mapper';
import { LegacyKeysService } from './legacy-keys.service';
import { futureTime, validModels, validRate } from './key-limits';
import { GRACE_SECONDS_MAX, KEY_NAME_MAX } from '@gg/contracts';

export interface NewKey extends KeyLimits {
  name: string;
  expiresAt?: string | null;
}

export interface KeyPatch extends KeyLimits {
  name?: string;
  isActive?: boolean;
  expiresAt?: string | null;
}

/** Fields the gateways cache: a change to any of them is announced so every replica drops the record. */
const CACHED_FIELDS: readonly (keyof AuthKeyPatch)[] = ['isActive', 'expiresAt', 'rateLimitPerMinute', 'allowedModels'];

/**
 * User API keys. A user sees and manages only their own keys (another user's key id is NOT_FOUND); admins manage
 * any. Every change the gateway must see (deactivation, expiry, limits, deletion, rotation) is announced with the
 * hashes concerned.
 */
@Injectable()
export class KeysService {
  private readonly logger = new Logger(KeysService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(DB_MANAGER) private readonly db: DbManager,
    private readonly events: AuthEventsService,
    private readonly legacy: LegacyKeysService,
  ) {}

  async list(caller: Caller, userId?: string): Promise<AuthKey[]> {
    if (userId !== undefined && userId !== caller.userId && caller.role !== 'admin') {
      throw DomainError.forbidden("only an admin may list another user's keys");
    }
    const rows = await this.db.authKeys.listByUser(userId ?? caller.userId);
    return rows.sort((a, b) => b.createdAt.localeCompare(a.createdAt)).map((r) => toAuthKey(r));
  }

  async create(caller: Caller, input: NewKey): Promise<AuthKeyWithSecret> {
    const { key, prefix } = generateUserKey(this.config.keyHashSecret);
    const row = await this.db.authKeys.create({
      id: randomUUID(),
      userId: caller.userId,
      name: validName(input.name),
      prefix,
      hash: hashUserKey(key, this.config.keyHashSecret),
      isActive: true,
      callCount: 0,
      promptTokens: 0,
      outputTokens: 0,
      createdAt: new Date().toISOString(),
      lastUsedAt: null,
      expiresAt: futureTime(input.expiresAt) ?? null,
      rateLimitPerMinute: validRate(input.rateLimitPerMinute) ?? null,
      allowedModels: validModels(input.allowedModels) ?? null,
      previousHash: null,
      previousHashExpiresAt: null,
    });
    this.logger.log({ userId: caller.userId, keyId: row.id }, 'user key created');
    return { ...toAuthKey(row), key };
  }

  async update(caller: Caller, id: string, patch: KeyPatch): Promise<AuthKey> {
    const row = await this.findVisible(caller, id);
    const wanted: AuthKeyPatch = {
      name: patch.name === undefined ? undefined : validName(patch.name),
      isActive: patch.isActive,
      expiresAt: futureTime(patch.expiresAt),
      rateLimitPerMinute: validRate(patch.rateLimitPerMinute),
      allowedModels: validModels(patch.allowedModels),
    };
    const changes = Object.fromEntries(
      Object.entries(wanted).filter(([k, v]) => v !== undefined && !same(v, row[k as keyof AuthKeyRow])),
    ) as AuthKeyPatch;
    if (Object.keys(changes).length === 0) return toAuthKey(row);
    const updated = await this.db.authKeys.update(id, changes);
    if (!updated) throw DomainError.notFound('key not found');
    if (CACHED_FIELDS.some((f) => f in changes)) this.events.keyChanged(hashesOf(row));
    this.logger.log({ keyId: id, changed: Object.keys(changes) }, 'user key updated');
    return toAuthKey(updated);
  }

  /**
   * A new secret for the same key (name, counts, limits and id stay). The old secret keeps working for
   * `graceSeconds` (0: it stops at once); a secret replaced by an earlier rotation stops now either way.
   */
  async rotate(caller: Caller, id: string, graceSeconds = 0): Promise<AuthKeyWithSecret> {
    const row = await this.findVisible(caller, id);
    if (!Number.isInteger(graceSeconds) || graceSeconds < 0 || graceSeconds > GRACE_SECONDS_MAX) {
      throw DomainError.badRequest(`graceSeconds must be an integer from 0 to ${GRACE_SECONDS_MAX}`);
    }
    const { key, prefix } = generateUserKey(this.config.keyHashSecret);
    const until = graceSeconds > 0 ? new Date(Date.now() + graceSeconds * 1000).toISOString() : null;
    const updated = await this.db.authKeys.rotate(
      id,
      { hash: hashUserKey(key, this.config.keyHashSecret), prefix },
      until,
    );
    if (!updated) throw DomainError.notFound('key not found');
    this.legacy.changed();
    // gateways holding the old secret drop it and ask again: they then learn the grace end (or that it is gone)
    this.events.keyChanged(hashesOf(row));
    this.logger.log({ keyId: id, graceSeconds }, 'user key rotated');
    return { ...toAuthKey(updated), key };
  }

  async delete(caller: Caller, id: string): Promise<null> {
    const row = await this.findVisible(caller, id);
    await this.db.authKeys.delete(id);
    this.legacy.changed();
    this.events.keyChanged(hashesOf(row));
    this.logger.log({ keyId: id }, 'user key deleted');
    return null;
  }

  /**
   * For the gateway's cache: the key behind a hash, or null when no key has it. A previous secret kept by a
   * rotation answers with `expiresAt` at the end of its grace, and null once that has passed.
   */
  async verify(hash: string, now = Date.now()): Promise<AuthKeyRecord | null> {
    const row = await this.db.authKeys.findByHash(hash);
    if (!row) return null;
    const owner = await this.db.users.findById(row.userId);
    if (equalHex(row.hash, hash)) return toKeyRecord(row, owner);
    if (row.previousHash && equalHex(row.previousHash, hash) && row.previousHashExpiresAt) {
      const graceEnd = Date.parse(row.previousHashExpiresAt);
      if (graceEnd <= now) return null;
      // a client still on the secret a rotation replaced: worth knowing before the grace ends (once per gateway
      // cache fill, not per request)
      this.logger.log(
        { keyId: row.id, graceEndsAt: row.previousHashExpiresAt },
        'a rotated user key was used during its grace period',
      );
      return toKeyRecord(row, owner, graceEnd);
    }
    return null;
  }

  private async findVisible(caller: Caller, id: string): Promise<AuthKeyRow> {
    const row = await this.db.authKeys.findById(id);
    if (!row || (row.userId !== caller.userId && caller.role !== 'admin')) throw DomainError.notFound('key not found');
    return row;
  }
}

function validName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length < 1 || trimmed.length > KEY_NAME_MAX) {
    throw DomainError.badRequest(`name must be 1-${KEY_NAME_MAX} characters`);
  }
  return trimmed;
}

function hashesOf(row: AuthKeyRow): string[] {
  return row.previousHash ? [row.hash, row.previousHash] : [row.hash];
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Constant-time comparison of two hex hashes. */
function equalHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}
