import { MigrationExecutor, type DataSource, type QueryRunner } from 'typeorm';
import type { MigrationReport } from '../db-manager';
import { INITIAL_MARKER_TABLE, INITIAL_MIGRATION } from './migrations';

export class SqliteMigrationError extends Error {}

/**
 * Run the pending migrations of an open DataSource, all in one `BEGIN IMMEDIATE` transaction: a second process
 * opening the same file meanwhile (the app and `scripts/db-migrate.mjs`) waits for the write lock (busy timeout),
 * then finds the work done; a failed migration leaves the file as it was.
 *
 * A database made by the first release (`synchronize`: its tables, no migrations table) is adopted first: the
 * initial migration is recorded as run, without running it. A database that has run a migration this code does not
 * know (a newer release) is refused.
 */
export async function migrateSqlite(ds: DataSource): Promise<MigrationReport> {
  const q = ds.createQueryRunner();
  try {
    await q.query('BEGIN IMMEDIATE');
    try {
      const report = await migrateLocked(ds, q);
      await q.query('COMMIT');
      return report;
    } catch (e) {
      await q.query('ROLLBACK');
      throw e;
    }
  } finally {
    await q.release();
  }
}

async function migrateLocked(ds: DataSource, q: QueryRunner): Promise<MigrationReport> {
  const executor = new MigrationExecutor(ds, q);
  executor.transaction = 'none'; // inside ours
  const table = ds.options.migrationsTableName ?? 'migrations';
  const rows: { name: string }[] = await q.query(`SELECT name FROM sqlite_master WHERE type = 'table'`);
  const found = new Set(rows.map((r) => r.name));
  const adopted = !found.has(table) && found.has(INITIAL_MARKER_TABLE);
  if (adopted) {
    await executor.showMigrations(); // creates the migrations table
    const initial = (await executor.getPendingMigrations()).find((m) => m.instance instanceof INITIAL_MIGRATION);
    if (!initial) throw new SqliteMigrationError("the initial migration is not in this DataSource's list");
    await executor.insertMigration(initial);
  }
  const known = new Set(ds.migrations.map((m) => m.name ?? m.constructor.name));
  const unknown = (await executor.getExecutedMigrations()).filter((m) => !known.has(m.name));
  if (unknown.length) {
    throw new SqliteMigrationError(
      `the database has run migrations this release does not know (${unknown.map((m) => m.name).join(', ')}): run the newer release`,
    );
  }
  const applied = await executor.executePendingMigrations();
  const last = (await executor.getExecutedMigrations()).sort((a, b) => a.timestamp - b.timestamp).at(-1);
  return { version: last?.name ?? '', adopted, applied: applied.map((m) => m.name) };
}
