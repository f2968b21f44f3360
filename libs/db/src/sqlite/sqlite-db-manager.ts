import { makePrivateDir } from '@gg/config';
import { chmodSync, closeSync, existsSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import type { DbManager, DbManagerOptions, MigrationReport } from '../db-manager';
import { SqliteAuditRepository } from './audit.repository';
import { SqliteAuthKeysRepository } from './auth-keys.repository';
import { ALL_ENTITIES } from './entities';
import { SqliteKvRepository } from './kv.repository';
import { SqliteLogsRepository } from './logs.repository';
import { migrateSqlite } from './migrate';
import { sqliteMigrations } from './migrations';
import { Mutex } from '@gg/nest-common';
import { SqlitePoolKeysRepository } from './pool-keys.repository';
import { SqliteUsageRepository } from './usage.repository';
import { SqliteUsersRepository } from './users.repository';
import { sqlite3Driver } from './sqlite3-driver';

const BUSY_TIMEOUT_MS = 5000;

/**
 * SQLite driver: one file per service, `${dataDir}/${service}.sqlite`, in WAL mode. The schema comes from the
 * migrations in migrations/ (no `synchronize`), run when the file is opened (migrate.ts).
 */
export class SqliteDbManager implements DbManager {
  readonly type = 'sqlite' as const;
  private readonly lock = new Mutex();
  readonly users: SqliteUsersRepository;
  readonly authKeys: SqliteAuthKeysRepository;
  readonly usage: SqliteUsageRepository;
  readonly logs: SqliteLogsRepository;
  readonly poolKeys: SqlitePoolKeysRepository;
  readonly kv: SqliteKvRepository;
  readonly audit: SqliteAuditRepository;

  private constructor(
    private readonly ds: DataSource,
    readonly migration: MigrationReport,
  ) {
    this.users = new SqliteUsersRepository(ds, this.lock);
    this.authKeys = new SqliteAuthKeysRepository(ds, this.lock);
    this.usage = new SqliteUsageRepository(ds, this.lock);
    this.logs = new SqliteLogsRepository(ds, this.lock);
    this.poolKeys = new SqlitePoolKeysRepository(ds, this.lock);
    this.kv = new SqliteKvRepository(ds, this.lock);
    this.audit = new SqliteAuditRepository(ds, this.lock);
  }

  static async open(opts: Pick<DbManagerOptions, 'dataDir' | 'service'>): Promise<SqliteDbManager> {
    if (!/^[A-Za-z0-9_-]+$/.test(opts.service)) throw new Error(`invalid service name: ${opts.service}`);
    makePrivateDir(opts.dataDir);
    const file = join(opts.dataDir, `${opts.service}.sqlite`);
    // SQLite creates its files 0644 and gives the -wal and -shm files the mode of the database: create it 0600
    closeSync(openSync(file, 'a', 0o600));
    chmodSync(file, 0o600);
    const ds = new DataSource({
      type: 'sqlite',
      driver: sqlite3Driver,
      database: file,
      entities: ALL_ENTITIES,
      synchronize: false,
      migrations: sqliteMigrations(opts.service),
      migrationsRun: false,
      enableWAL: true,
      busyTimeout: BUSY_TIMEOUT_MS,
      logging: false,
    });
    await initializeWhenFree(ds);
    // WAL with synchronous=NORMAL: a commit is written to the WAL without an fsync of its own (the WAL is synced at
    // checkpoints). A crash of the process (kill -9) loses nothing committed; a crash of the machine or a power cut
    // may lose the last commits, never consistency. FULL fsynced every commit: under the bench's load that was
    // most of auth's kernel time (145 µs per request, a usage group committed every 2 ms).
    await ds.query('PRAGMA synchronous = NORMAL');
    let migration: MigrationReport;
    try {
      migration = await migrateSqlite(ds);
    } catch (e) {
      await ds.destroy();
      throw e;
    }
    for (const extra of [`${file}-wal`, `${file}-shm`]) {
      if (existsSync(extra)) chmodSync(extra, 0o600);
    }
    return new SqliteDbManager(ds, migration);
  }

  async ping(): Promise<boolean> {
    try {
      await this.ds.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.ds.isInitialized) await this.lock.run(() => this.ds.destroy());
  }
}

/**
 * TypeORM switches to WAL before it sets busy_timeout, so a second process opening the file at the same moment (an
 * app and `db:migrate`, two starts) can fail at once with SQLITE_BUSY: try again for up to BUSY_TIMEOUT_MS.
 */
async function initializeWhenFree(ds: DataSource): Promise<void> {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  for (;;) {
    try {
      await ds.initialize();
      return;
    } catch (e) {
      if ((e as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() > deadline) throw e;
      if (ds.isInitialized) await ds.destroy();
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
