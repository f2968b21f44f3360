import type { PoolKeyRow, PoolKeysRepository } from '../db-manager';
import { POOL_KEY_FIELDS, encode } from './codec';
import type { RedisKeys } from './keys';
import { byCreatedAt, deleteRow, loadRow, loadRows, saveRowArgs, type RowPlace } from './rows';
import { execAll, scriptedPipeline, type ScriptedRedis } from './scripts';

export class RedisPoolKeysRepository implements PoolKeysRepository {
  constructor(
    private readonly redis: ScriptedRedis,
    private readonly keys: RedisKeys,
  ) {}

  private place(id: string): RowPlace {
    return {
      row: this.keys.poolKey(id),
      index: this.keys.poolKeysByFingerprint(),
      members: this.keys.poolKeys(),
      uniqueField: 'fingerprint',
    };
  }

  /** One pipeline; each row is created by a script that refuses a known fingerprint (or id). */
  async insertMany(rows: PoolKeyRow[]): Promise<{ added: PoolKeyRow[]; duplicates: number }> {
    if (rows.length === 0) return { added: [], duplicates: 0 };
    const p = scriptedPipeline(this.redis);
    for (const row of rows) {
      const [k1, k2, k3, ...argv] = saveRowArgs(this.place(row.id), 'create', row.id, encode(row, POOL_KEY_FIELDS));
      p.ggSaveRow(k1 as string, k2 as string, k3 as string, ...argv);
    }
    const results = await execAll(p);
    const added = rows.filter((_, i) => results[i] === 'OK').map((r) => ({ ...r }));
    return { added, duplicates: rows.length - added.length };
  }

  async list(): Promise<PoolKeyRow[]> {
    const ids = await this.redis.smembers(this.keys.poolKeys());
    const rows = await loadRows(this.redis, ids.map(this.keys.poolKey), POOL_KEY_FIELDS);
    return rows.sort(byCreatedAt);
  }

  findById(id: string): Promise<PoolKeyRow | null> {
    return loadRow(this.redis, this.keys.poolKey(id), POOL_KEY_FIELDS);
  }

  saveState(id: string, state: string): Promise<void> {
    return this.saveStates([{ id, state }]);
  }

  /** One MULTI; a state for an unknown id is ignored. */
  async saveStates(states: { id: string; state: string }[]): Promise<void> {
    if (states.length === 0) return;
    const p = scriptedPipeline(this.redis, true);
    for (const s of states) {
      const [k1, k2, k3, ...argv] = saveRowArgs(this.place(s.id), 'update', s.id, { set: ['state', s.state], del: [] });
      p.ggSaveRow(k1 as string, k2 as string, k3 as string, ...argv);
    }
    await execAll(p);
  }

  delete(id: string): Promise<boolean> {
    return deleteRow(this.redis, this.place(id), id);
  }
}
