import { In, type DataSource, type Repository } from 'typeorm';
import type { PoolKeyRow, PoolKeysRepository } from '../db-manager';
import { PoolKeyEntity } from './entities';
import type { Mutex } from '@gg/nest-common';

const CHUNK = 200;

export class SqlitePoolKeysRepository implements PoolKeysRepository {
  private readonly repo: Repository<PoolKeyRow>;

  constructor(
    private readonly ds: DataSource,
    private readonly lock: Mutex,
  ) {
    this.repo = ds.getRepository(PoolKeyEntity);
  }

  /** One transaction: skip fingerprints (and ids) already stored or repeated earlier in the batch. */
  async insertMany(rows: PoolKeyRow[]): Promise<{ added: PoolKeyRow[]; duplicates: number }> {
    if (rows.length === 0) return { added: [], duplicates: 0 };
    return this.lock.run(() =>
      this.ds.transaction(async (em) => {
        const repo = em.getRepository(PoolKeyEntity);
        const seenFp = new Set<string>();
        const seenId = new Set<string>();
        for (let i = 0; i < rows.length; i += CHUNK) {
          const chunk = rows.slice(i, i + CHUNK);
          const byFp = await repo.find({
            select: { fingerprint: true },
            where: { fingerprint: In(chunk.map((r) => r.fingerprint)) },
          });
          const byId = await repo.find({
            select: { id: true },
            where: { id: In(chunk.map((r) => r.id)) },
          });
          byFp.forEach((r) => seenFp.add(r.fingerprint));
          byId.forEach((r) => seenId.add(r.id));
        }
        const added: PoolKeyRow[] = [];
        for (const row of rows) {
          if (seenFp.has(row.fingerprint) || seenId.has(row.id)) continue;
          seenFp.add(row.fingerprint);
          seenId.add(row.id);
          added.push({ ...row });
        }
        for (let i = 0; i < added.length; i += CHUNK) {
          await repo.insert(added.slice(i, i + CHUNK));
        }
        return { added, duplicates: rows.length - added.length };
      }),
    );
  }

  list(): Promise<PoolKeyRow[]> {
    return this.repo.find({ order: { createdAt: 'ASC', id: 'ASC' } });
  }

  findById(id: string): Promise<PoolKeyRow | null> {
    return this.repo.findOneBy({ id });
  }

  async saveState(id: string, state: string): Promise<void> {
    await this.lock.run(() => this.repo.update({ id }, { state }));
  }

  async saveStates(states: { id: string; state: string }[]): Promise<void> {
    if (states.length === 0) return;
    await this.lock.run(() =>
      this.ds.transaction(async (em) => {
        const repo = em.getRepository(PoolKeyEntity);
        for (const s of states) await repo.update({ id: s.id }, { state: s.state });
      }),
    );
  }

  async delete(id: string): Promise<boolean> {
    const res = await this.lock.run(() => this.repo.delete({ id }));
    return (res.affected ?? 0) > 0;
  }
}
