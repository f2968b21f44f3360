import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '@gg/config';
import type { AuthKey, AuthKeyRecord, AuthKeyWithSecret, Caller } from '@gg/contracts';
import { type AuthKeyRow, DB_MANAGER, type DbManager } from '@gg/db';
import { DomainError, generateUserKey, hashUserKey } from '@gg/nest-common';
import { AuthEventsService } from '../events/auth-events.service';
import { toAuthKey, toKeyRecord } from './auth-key.mapper';
import { KEY_NAME_MAX } from './keys.dto';

export interface KeyPatch {
  name?: string;
  isActive?: boolean;
}

/**
 * User API keys. A user sees and manages only their own keys (another user's key id is NOT_FOUND); admins manage
 * any. Every change the gateway must see (deactivation, deletion, rotation) is announced with the old hash.
 */
@Injectable()
export class KeysService {
  private readonly logger = new Logger(KeysService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(DB_MANAGER) private readonly db: DbManager,
    private readonly events: AuthEventsService,
  ) {}

  async list(caller: Caller, userId?: string): Promise<AuthKey[]> {
    if (userId !== undefined && userId !== caller.userId && caller.role !== 'admin') {
      throw DomainError.forbidden("only an admin may list another user's keys");
    }
    const rows = await this.db.authKeys.listByUser(userId ?? caller.userId);
    return rows.sort((a, b) => b.createdAt.localeCompare(a.createdAt)).map(toAuthKey);
  }

  async create(caller: Caller, name: string, expiresAt?: string | null): Promise<AuthKeyWithSecret> {
    const { key, prefix } = generateUserKey();
    const row = await this.db.authKeys.create({
      id: randomUUID(),
      userId: caller.userId,
      name: validName(name),
      prefix,
      hash: hashUserKey(key, this.config.keyHashSecret),
      isActive: true,
      callCount: 0,
      promptTokens: 0,
      outputTokens: 0,
      createdAt: new Date().toISOString(),
      lastUsedAt: null,
      expiresAt: futureTime(expiresAt),
    });
    this.logger.log({ userId: caller.userId, keyId: row.id }, 'user key created');
    return { ...toAuthKey(row), key };
  }

  async update(caller: Caller, id: string, patch: KeyPatch): Promise<AuthKey> {
    const row = await this.findVisible(caller, id);
    const changes: KeyPatch = {};
    if (patch.name !== undefined) changes.name = validName(patch.name);
    if (patch.isActive !== undefined && patch.isActive !== row.isActive) changes.isActive = patch.isActive;
    if (Object.keys(changes).length === 0) return toAuthKey(row);
    const updated = await this.db.authKeys.update(id, changes);
    if (!updated) throw DomainError.notFound('key not found');
    if (changes.isActive !== undefined) this.events.keyChanged([row.hash]);
    this.logger.log({ keyId: id, changed: Object.keys(changes) }, 'user key updated');
    return toAuthKey(updated);
  }

  /** A new secret for the same key (name, counts and id stay); the old secret stops working at once. */
  async rotate(caller: Caller, id: string): Promise<AuthKeyWithSecret> {
    const row = await this.findVisible(caller, id);
    const { key, prefix } = generateUserKey();
    const updated = await this.db.authKeys.update(id, { hash: hashUserKey(key, this.config.keyHashSecret), prefix });
    if (!updated) throw DomainError.notFound('key not found');
    this.events.keyChanged([row.hash]);
    this.logger.log({ keyId: id }, 'user key rotated');
    return { ...toAuthKey(updated), key };
  }

  async delete(caller: Caller, id: string): Promise<null> {
    const row = await this.findVisible(caller, id);
    await this.db.authKeys.delete(id);
    this.events.keyChanged([row.hash]);
    this.logger.log({ keyId: id }, 'user key deleted');
    return null;
  }

  /** For the gateway's cache: the key behind a hash, or null when no key has it. */
  async verify(hash: string): Promise<AuthKeyRecord | null> {
    const row = await this.db.authKeys.findByHash(hash);
    if (!row) return null;
    return toKeyRecord(row, await this.db.users.findById(row.userId));
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

function futureTime(iso: string | null | undefined): string | null {
  if (iso === undefined || iso === null) return null;
  const t = Date.parse(iso);
  if (Number.isNaN(t)) throw DomainError.badRequest('expiresAt must be an ISO-8601 time');
  if (t <= Date.now()) throw DomainError.badRequest('expiresAt must be in the future');
  return new Date(t).toISOString();
}
