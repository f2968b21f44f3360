import type { DataSource, Repository } from 'typeorm';
import type { UserRow, UsersRepository } from '../db-manager';
import { UserEntity } from './entities';
import type { Mutex } from '@gg/nest-common';
import { definedOnly, rethrowUnique } from './unique';

export class SqliteUsersRepository implements UsersRepository {
  private readonly repo: Repository<UserRow>;

  constructor(
    ds: DataSource,
    private readonly lock: Mutex,
  ) {
    this.repo = ds.getRepository(UserEntity);
  }

  async create(row: UserRow): Promise<UserRow> {
    await this.lock.run(() => this.repo.insert({ ...row })).catch(rethrowUnique);
    return { ...row };
  }

  findById(id: string): Promise<UserRow | null> {
    return this.repo.findOneBy({ id });
  }

  findByUsername(username: string): Promise<UserRow | null> {
    return this.repo.findOneBy({ username });
  }

  list(): Promise<UserRow[]> {
    return this.repo.find({ order: { createdAt: 'ASC', id: 'ASC' } });
  }

  async update(id: string, patch: Partial<Omit<UserRow, 'id' | 'createdAt'>>): Promise<UserRow | null> {
    const values = definedOnly({
      ...patch,
      id: undefined,
      createdAt: undefined,
    });
    if (Object.keys(values).length > 0) {
      await this.lock.run(() => this.repo.update({ id }, values)).catch(rethrowUnique);
    }
    return this.findById(id);
  }

  async delete(id: string): Promise<boolean> {
    const res = await this.lock.run(() => this.repo.delete({ id }));
    return (res.affected ?? 0) > 0;
  }

  count(): Promise<number> {
    return this.repo.count();
  }
}
