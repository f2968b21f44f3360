import { UniqueViolationError } from '../errors';
import type { AuthKeyPatch, AuthKeyRow, AuthKeysRepository } from '../db-manager';
import { AUTH_KEY_FIELDS, encode } from './codec';
import type { RedisKeys } from './keys';
import { byCreatedAt, deleteRow, loadRow, loadRows, saveRow, type RowPlace } from './rows';
import type { ScriptedRedis } from './scripts';

/**
 * Auth keys as hashes; one index hash maps the current hash of every key, and the previous hash of a key
 * rotated with grace, to the key id.
 */
export class RedisAuthKeysRepository implements AuthKeysRepository {
  constructor(
    private readonly redis: ScriptedRedis,
    private readonly keys: RedisKeys,
  ) {}

  private place(id: string, userId: string): RowPlace {
    return {
      row: this.keys.authKey(id),
      index: this.keys.authKeysByHash(),
      members: this.keys.authKeysOfUser(userId),
      uniqueField: 'hash',
    };
  }

  async create(row: AuthKeyRow): Promise<AuthKeyRow> {
    await saveRow(this.redis, this.place(row.id, row.userId), 'create', row.id, encode(row, AUTH_KEY_FIELDS));
    return { ...row };
  }

  findById(id: string): Promise<AuthKeyRow | null> {
    return loadRow(this.redis, this.keys.authKey(id), AUTH_KEY_FIELDS);
  }

  async findByHash(hash: string): Promise<AuthKeyRow | null> {
    const id = await this.redis.hget(this.keys.authKeysByHash(), hash);
    if (!id) return null;
    const row = await this.findById(id);
    return row && (row.hash === hash || row.previousHash === hash) ? row : null;
  }

  async listByUser(userId: string): Promise<AuthKeyRow[]> {
    const ids = await this.redis.smembers(this.keys.authKeysOfUser(userId));
    const rows = await loadRows(this.redis, ids.map(this.keys.authKey), AUTH_KEY_FIELDS);
    return rows.sort(byCreatedAt);
  }

  async update(id: string, patch: AuthKeyPatch): Promise<AuthKeyRow | null> {
    const userId = await this.redis.hget(this.keys.authKey(id), 'userId');
    if (userId === null) return null;
    const { name, isActive, hash, prefix, expiresAt, rateLimitPerMinute, allowedModels } = patch;
    const e = encode<AuthKeyRow>(
      { name, isActive, hash, prefix, expiresAt, rateLimitPerMinute, allowedModels },
      AUTH_KEY_FIELDS,
    );
    const res = await saveRow(this.redis, this.place(id, userId), 'update', id, e);
    return res === 'MISSING' ? null : this.findById(id);
  }

  async rotate(
    id: string,
    next: { hash: string; prefix: string },
    previousUntil: string | null,
  ): Promise<AuthKeyRow | null> {
    const res = await this.redis.ggRotateKey(
      this.keys.authKey(id),
      this.keys.authKeysByHash(),
      id,
      next.hash,
      next.prefix,
      previousUntil ?? '',
    );
    if (res === 'MISSING') return null;
    if (res === 'CONFLICT') throw new UniqueViolationError('hash');
    return this.findById(id);
  }

  async delete(id: string): Promise<boolean> {
    const row = await this.findById(id);
    if (!row) return false;
    return this.deleteOne(row);
  }

  async deleteByUser(userId: string): Promise<number> {
    const rows = await this.listByUser(userId);
    let n = 0;
    for (const row of rows) if (await this.deleteOne(row)) n++;
    return n;
  }

  private async deleteOne(row: AuthKeyRow): Promise<boolean> {
    if (row.previousHash) {
      await this.redis.ggDropIndex(this.keys.authKeysByHash(), row.previousHash, row.id);
    }
    return deleteRow(this.redis, this.place(row.id, row.userId), row.id);
  }
}
