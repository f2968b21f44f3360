import type { UserRow, UsersRepository } from '../db-manager';
import { USER_FIELDS, encode } from './codec';
import type { RedisKeys } from './keys';
import { byCreatedAt, deleteRow, loadRow, loadRows, saveRow, type RowPlace } from './rows';
import type { ScriptedRedis } from './scripts';

export class RedisUsersRepository implements UsersRepository {
  constructor(
    private readonly redis: ScriptedRedis,
    private readonly keys: RedisKeys,
  ) {}

  private place(id: string): RowPlace {
    return {
      row: this.keys.user(id),
      index: this.keys.usersByName(),
      members: this.keys.users(),
      uniqueField: 'username',
    };
  }

  async create(row: UserRow): Promise<UserRow> {
    await saveRow(this.redis, this.place(row.id), 'create', row.id, encode(row, USER_FIELDS));
    return { ...row };
  }

  findById(id: string): Promise<UserRow | null> {
    return loadRow(this.redis, this.keys.user(id), USER_FIELDS);
  }

  async findByUsername(username: string): Promise<UserRow | null> {
    const id = await this.redis.hget(this.keys.usersByName(), username);
    return id ? this.findById(id) : null;
  }

  async list(): Promise<UserRow[]> {
    const ids = await this.redis.smembers(this.keys.users());
    const rows = await loadRows(this.redis, ids.map(this.keys.user), USER_FIELDS);
    return rows.sort(byCreatedAt);
  }

  async update(id: string, patch: Partial<Omit<UserRow, 'id' | 'createdAt'>>): Promise<UserRow | null> {
    const e = encode<UserRow>({ ...patch, id: undefined, createdAt: undefined }, USER_FIELDS);
    const res = await saveRow(this.redis, this.place(id), 'update', id, e);
    return res === 'MISSING' ? null : this.findById(id);
  }

  delete(id: string): Promise<boolean> {
    return deleteRow(this.redis, this.place(id), id);
  }

  count(): Promise<number> {
    return this.redis.scard(this.keys.users());
  }
}
