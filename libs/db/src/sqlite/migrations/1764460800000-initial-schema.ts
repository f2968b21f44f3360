import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The schema of the first release (0.1.0), which TypeORM's `synchronize` made from entities.ts: byte for byte the
 * same DDL, constraint names included, so a database of that release is adopted by marking this migration as run
 * (migrate.ts) and both kinds of database go on identically. Every SQLite file (auth's, key-pool's) has it.
 */
export class InitialSchema1764460800000 implements MigrationInterface {
  name = 'InitialSchema1764460800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE "users" ("id" varchar PRIMARY KEY NOT NULL, "username" varchar NOT NULL, "passwordHash" varchar NOT NULL, "role" varchar NOT NULL, "isActive" boolean NOT NULL, "tokenVersion" integer NOT NULL DEFAULT (0), "createdAt" varchar NOT NULL, CONSTRAINT "UQ_fe0bb3f6520ee0469504521e710" UNIQUE ("username"))`,
    );
    await q.query(
      `CREATE TABLE "auth_keys" ("id" varchar PRIMARY KEY NOT NULL, "userId" varchar NOT NULL, "name" varchar NOT NULL, "prefix" varchar NOT NULL, "hash" varchar NOT NULL, "isActive" boolean NOT NULL, "callCount" integer NOT NULL DEFAULT (0), "promptTokens" integer NOT NULL DEFAULT (0), "outputTokens" integer NOT NULL DEFAULT (0), "createdAt" varchar NOT NULL, "lastUsedAt" varchar, "expiresAt" varchar, "rateLimitPerMinute" integer, "allowedModels" text, "previousHash" varchar, "previousHashExpiresAt" varchar, CONSTRAINT "UQ_26f044297156079dc87f9766c5b" UNIQUE ("hash"))`,
    );
    await q.query(`CREATE INDEX "IDX_auth_keys_user" ON "auth_keys" ("userId") `);
    await q.query(`CREATE INDEX "IDX_auth_keys_previous_hash" ON "auth_keys" ("previousHash") `);
    await q.query(
      `CREATE TABLE "request_logs" ("id" varchar PRIMARY KEY NOT NULL, "at" varchar NOT NULL, "userId" varchar NOT NULL, "authKeyId" varchar NOT NULL, "poolKeyId" varchar, "method" varchar NOT NULL, "model" varchar, "stream" boolean NOT NULL, "status" integer NOT NULL, "attempts" integer NOT NULL, "latencyMs" integer NOT NULL, "ttfbMs" integer, "promptTokens" integer NOT NULL, "outputTokens" integer NOT NULL, "error" varchar)`,
    );
    await q.query(`CREATE INDEX "IDX_request_logs_at" ON "request_logs" ("at", "id") `);
    await q.query(`CREATE INDEX "IDX_request_logs_key_at" ON "request_logs" ("authKeyId", "at") `);
    await q.query(`CREATE INDEX "IDX_request_logs_user_at" ON "request_logs" ("userId", "at") `);
    await q.query(
      `CREATE TABLE "pool_keys" ("id" varchar PRIMARY KEY NOT NULL, "secretEnc" varchar NOT NULL, "fingerprint" varchar NOT NULL, "masked" varchar NOT NULL, "state" varchar NOT NULL, "createdAt" varchar NOT NULL, CONSTRAINT "UQ_5aed204e5e666fb62d770773f68" UNIQUE ("fingerprint"))`,
    );
    await q.query(
      `CREATE TABLE "kv" ("key" varchar PRIMARY KEY NOT NULL, "value" varchar NOT NULL, "expiresAt" varchar)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['kv', 'pool_keys', 'request_logs', 'auth_keys', 'users'])
      await q.query(`DROP TABLE "${table}"`);
  }
}
