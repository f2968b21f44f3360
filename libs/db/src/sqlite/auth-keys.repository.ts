import type { DataSource, Repository } from "typeorm";
import type { AuthKeyRow, AuthKeysRepository } from "../db-manager";
import { AuthKeyEntity } from "./entities";
import type { Mutex } from "./mutex";
import { definedOnly, rethrowUnique } from "./unique";

type AuthKeyPatch = Partial<
  Pick<AuthKeyRow, "name" | "isActive" | "hash" | "prefix" | "expiresAt">
>;

export class SqliteAuthKeysRepository implements AuthKeysRepository {
  private readonly repo: Repository<AuthKeyRow>;

  constructor(
    ds: DataSource,
    private readonly lock: Mutex,
  ) {
    this.repo = ds.getRepository(AuthKeyEntity);
  }

  async create(row: AuthKeyRow): Promise<AuthKeyRow> {
    await this.lock
      .run(() => this.repo.insert({ ...row }))
      .catch(rethrowUnique);
    return { ...row };
  }

  findById(id: string): Promise<AuthKeyRow | null> {
    return this.repo.findOneBy({ id });
  }

  findByHash(hash: string): Promise<AuthKeyRow | null> {
    return this.repo.findOneBy({ hash });
  }

  listByUser(userId: string): Promise<AuthKeyRow[]> {
    return this.repo.find({
      where: { userId },
      order: { createdAt: "ASC", id: "ASC" },
    });
  }

  async update(id: string, patch: AuthKeyPatch): Promise<AuthKeyRow | null> {
    const { name, isActive, hash, prefix, expiresAt } = patch;
    const values = definedOnly({ name, isActive, hash, prefix, expiresAt });
    if (Object.keys(values).length > 0) {
      await this.lock
        .run(() => this.repo.update({ id }, values))
        .catch(rethrowUnique);
    }
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
