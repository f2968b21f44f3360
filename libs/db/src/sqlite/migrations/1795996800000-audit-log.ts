import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit log of admin actions (entities.ts `AuditEntrySchema`): the DDL `synchronize` makes from that entity,
 * so a migrated database and a synchronized one stay identical. Newest-first paging reads the (at, id) index; the
 * actor and target filters have their own.
 */
export class AuditLog1795996800000 implements MigrationInterface {
  name = 'AuditLog1795996800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE "audit_log" ("id" varchar PRIMARY KEY NOT NULL, "at" varchar NOT NULL, "actorId" varchar NOT NULL, "actorName" varchar NOT NULL, "address" varchar NOT NULL, "action" varchar NOT NULL, "targetType" varchar NOT NULL, "targetId" varchar, "targetName" varchar, "changes" text)`,
    );
    await q.query(`CREATE INDEX "IDX_audit_log_at" ON "audit_log" ("at", "id") `);
    await q.query(`CREATE INDEX "IDX_audit_log_actor_at" ON "audit_log" ("actorId", "at") `);
    await q.query(`CREATE INDEX "IDX_audit_log_target_at" ON "audit_log" ("targetId", "at") `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "audit_log"`);
  }
}
