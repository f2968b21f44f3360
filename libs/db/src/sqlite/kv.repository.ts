import type { DataSource, Repository } from 'typeorm';
import type { KvRepository } from '../db-manager';
import { KvSchema, type KvEntity } from './entities';
import type { Mutex } from '@gg/nest-common';

/** Expired values read as absent; they are removed when next read or written. */
export class SqliteKvRepository implements KvRepository {
  private readonly repo: Repository<KvEntity>;

  constructor(
    ds: DataSource,
    private readonly lock: Mutex,
  ) {
    this.repo = ds.getRepository(KvSchema);
  }

  async get(key: string): Promise<string | null> {
    const row = await this.repo.findOneBy({ key });
    if (!row) return null;
    if (row.expiresAt !== null && row.expiresAt <= new Date().toISOString()) {
      await this.lock.run(() => this.repo.delete({ key, expiresAt: row.expiresAt as string }));
      return null;
    }
    return row.value;
  }

  async set(key: string, value: string, ttlSeconds?: number): Promise<void> {
    const expiresAt =
      ttlSeconds !== undefined && ttlSeconds > 0 ? new Date(Date.now() + ttlSeconds * 1000).toISOString() : null;
    await this.lock.run(() => this.repo.upsert({ key, value, expiresAt }, ['key']));
  }

  async delete(key: string): Promise<void> {
    await this.lock.run(() => this.repo.delete({ key }));
  }
}
