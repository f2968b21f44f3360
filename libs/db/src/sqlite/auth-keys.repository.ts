import type { DataSource, Repository } from 'typeorm';
import type { AuthKeyPatch, AuthKeyRow, AuthKeysRepository } from '../db-manager';
import { AuthKeyEntity } from './entities';
import type { Mutex } from '@gg/nest-common';
import { definedOnly, rethrowUnique } from './unique';

export class SqliteAuthKeysRepository implements AuthKeysRepository {
  private readonly repo: Repository<AuthKeyRow>;

  constructor(
    ds: DataSource,
    private readonly lock: Mutex,
  ) {
    this.repo = ds.getRepository(AuthKeyEntity);
  }

  async create(row: AuthKeyRow): Promise<AuthKeyRow> {
    await this.lock.run(() => this.repo.insert({ ...row })).catch(rethrowUnique);
    return { ...row };
  }

  async findById(id: string): Promise<AuthKeyRow | null> {
    return normalize(await this.repo.findOneBy({ id }));
  }

  async findByHash(hash: string): Promise<AuthKeyRow | null> {
    return normalize(await this.repo.findOne({ where: [{ hash }, { previousHash: hash }] }));
  }

  async listByUser(userId: string): Promise<AuthKeyRow[]> {
    const rows = await this.repo.find({
      where: { userId },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
    return rows.map((r) => normalize(r) as AuthKeyRow);
  }

  async update(id: string, patch: AuthKeyPatch): Promise<AuthKeyRow | null> {
    const { name, isActive, hash, prefix, expiresAt, rateLimitPerMinute, allowedModels } = patch;
    const values = definedOnly({ name, isActive, hash, prefix, expiresAt, rateLimitPerMinute, allowedModels });
    if (Object.keys(values).length > 0) {
      await this.lock.run(() => this.repo.update({ id }, values)).catch(rethrowUnique);
    }
    return this.findById(id);
  }

  async rotate(
    id: string,
    next: { hash: string; prefix: string },
    previousUntil: string | null,
  ): Promise<AuthKeyRow | null> {
    const current = await this.repo.findOneBy({ id });
    if (!current) return null;
    await this.lock
      .run(() =>
        this.repo.update(
          { id },
          {
            hash: next.hash,
            prefix: next.prefix,
            previousHash: previousUntil === null ? null : current.hash,
            previousHashExpiresAt: previousUntil,
          },
        ),
      )
      .catch(rethrowUnique);
    return this.findById(id);
  }

  async delete(id: string): Promise<boolean> {
    const res = await this.lock.run(() => this.repo.delete({ id }));
    return (res.affected ?? 0) > 0;
  }

  async deleteByUser(userId: string): Promise<number> {
    const res = await this.lock.run(() => this.repo.delete({ userId }));
    return res.affected ?? 0;
  }
}

/** Rows written before the limit and rotation columns existed read them as null. */
function normalize(row: AuthKeyRow | null): AuthKeyRow | null {
  if (!row) return null;
  return {
    ...row,
    rateLimitPerMinute: row.rateLimitPerMinute ?? null,
    allowedModels: row.allowedModels ?? null,
    previousHash: row.previousHash ?? null,
    previousHashExpiresAt: row.previousHashExpiresAt ?? null,
  };
}
