import type { AuthKeyRow, AuthKeysRepository } from "../db-manager";
import { AUTH_KEY_FIELDS, encode } from "./codec";
import type { RedisKeys } from "./keys";
import {
  byCreatedAt,
  deleteRow,
  loadRow,
  loadRows,
  saveRow,
  type RowPlace,
} from "./rows";
import type { ScriptedRedis } from "./scripts";

type AuthKeyPatch = Partial<
  Pick<AuthKeyRow, "name" | "isActive" | "hash" | "prefix" | "expiresAt">
>;

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
      uniqueField: "hash",
    };
  }

  async create(row: AuthKeyRow): Promise<AuthKeyRow> {
    await saveRow(
      this.redis,
      this.place(row.id, row.userId),
      "create",
      row.id,
      encode(row, AUTH_KEY_FIELDS),
    );
    return { ...row };
  }

  findById(id: string): Promise<AuthKeyRow | null> {
    return loadRow(this.redis, this.keys.authKey(id), AUTH_KEY_FIELDS);
  }

  async findByHash(hash: string): Promise<AuthKeyRow | null> {
    const id = await this.redis.hget(this.keys.authKeysByHash(), hash);
    return id ? this.findById(id) : null;
  }

  async listByUser(userId: string): Promise<AuthKeyRow[]> {
    const ids = await this.redis.smembers(this.keys.authKeysOfUser(userId));
    const rows = await loadRows(
      this.redis,
      ids.map(this.keys.authKey),
      AUTH_KEY_FIELDS,
    );
    return rows.sort(byCreatedAt);
  }

  async update(id: string, patch: AuthKeyPatch): Promise<AuthKeyRow | null> {
    const userId = await this.redis.hget(this.keys.authKey(id), "userId");
    if (userId === null) return null;
    const { name, isActive, hash, prefix, expiresAt } = patch;
    const e = encode<AuthKeyRow>(
      { name, isActive, hash, prefix, expiresAt },
      AUTH_KEY_FIELDS,
    );
    const res = await saveRow(
      this.redis,
      this.place(id, userId),
      "update",
      id,
      e,
    );
    return res === "MISSING" ? null : this.findById(id);
  }

  async delete(id: string): Promise<boolean> {
    const userId = await this.redis.hget(this.keys.authKey(id), "userId");
    if (userId === null) return false;
    return deleteRow(this.redis, this.place(id, userId), id);
  }

  async deleteByUser(userId: string): Promise<number> {
    const ids = await this.redis.smembers(this.keys.authKeysOfUser(userId));
    let n = 0;
    for (const id of ids)
      if (await deleteRow(this.redis, this.place(id, userId), id)) n++;
    return n;
  }
}
