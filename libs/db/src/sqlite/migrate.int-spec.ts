import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource, type MigrationInterface, type QueryRunner } from 'typeorm';
import { userRow } from '../testing/fixtures';
import { ALL_ENTITIES, AuditEntrySchema } from './entities';
import { migrateSqlite } from './migrate';
import { INITIAL_MIGRATION } from './migrations';
import { SqliteDbManager } from './sqlite-db-manager';
import { sqlite3Driver } from './sqlite3-driver';

/** A later migration, as a future release would add one. */
class AddNote1900000000000 implements MigrationInterface {
  name = 'AddNote1900000000000';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "users" ADD COLUMN "note" varchar`);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "users" DROP COLUMN "note"`);
  }
}

type Migrations = (new () => MigrationInterface)[];

/** What the first release's `synchronize` knew: every entity but those of later migrations. */
const RELEASE_1_ENTITIES = ALL_ENTITIES.filter((e) => e !== AuditEntrySchema);
/** The last migration of this release, and those after the initial one that a first-release database runs. */
const LATEST = 'AuditLog1795996800000';
const AFTER_INITIAL = [LATEST];

function source(
  file: string,
  opts: { synchronize?: boolean; migrations?: Migrations; release1?: boolean } = {},
): DataSource {
  return new DataSource({
    type: 'sqlite',
    // as the DbManager opens it: with sqlite3's verbose mode on, the module's prototypes would stay patched for the
    // next test file of this worker (sqlite3-driver.int-spec checks they are not)
    driver: sqlite3Driver,
    database: file,
    entities: opts.release1 ? RELEASE_1_ENTITIES : ALL_ENTITIES,
    synchronize: opts.synchronize ?? false,
    migrations: opts.migrations ?? [],
    logging: false,
  });
}

async function withSource<T>(ds: DataSource, fn: (ds: DataSource) => Promise<T>): Promise<T> {
  await ds.initialize();
  try {
    return await fn(ds);
  } finally {
    await ds.destroy();
  }
}

/** Tables and indexes as SQLite records them (the migrations table aside). */
function schemaOf(ds: DataSource): Promise<{ type: string; name: string; sql: string | null }[]> {
  return ds.query(
    `SELECT type, name, tbl_name, sql FROM sqlite_master WHERE tbl_name NOT IN ('migrations', 'sqlite_sequence') ORDER BY type, name`,
  );
}

describe('SQLite migrations', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gg-migrate-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a new database gets exactly the schema the entities describe (what synchronize made)', async () => {
    const db = await SqliteDbManager.open({ dataDir: dir, service: 'auth' });
    expect(db.migration).toEqual({
      version: LATEST,
      adopted: false,
      applied: ['InitialSchema1764460800000', ...AFTER_INITIAL],
    });
    await db.close();
    const migrated = await withSource(source(join(dir, 'auth.sqlite')), async (ds) => {
      const pending = await ds.driver.createSchemaBuilder().log();
      expect(pending.upQueries.map((q) => q.query)).toEqual([]);
      return schemaOf(ds);
    });
    const synced = await withSource(source(join(dir, 'synced.sqlite'), { synchronize: true }), schemaOf);
    expect(migrated).toEqual(synced);
    expect(migrated.filter((r) => r.type === 'table')).toHaveLength(6);
  });

  it('adopts a first-release database (synchronize-made, no migrations table): data kept, nothing re-run', async () => {
    const file = join(dir, 'auth.sqlite');
    await withSource(source(file, { synchronize: true, release1: true }), async (ds) => {
      await ds.getRepository('User').insert(userRow({ username: 'old-alice' }));
    });
    const db = await SqliteDbManager.open({ dataDir: dir, service: 'auth' });
    try {
      expect(db.migration).toEqual({ version: LATEST, adopted: true, applied: AFTER_INITIAL });
      expect((await db.users.list()).map((u) => u.username)).toEqual(['old-alice']);
    } finally {
      await db.close();
    }
    const again = await SqliteDbManager.open({ dataDir: dir, service: 'auth' });
    expect(again.migration).toEqual({ version: LATEST, adopted: false, applied: [] });
    await again.close();
    await withSource(source(file), async (ds) => {
      expect(await ds.query(`SELECT name FROM migrations ORDER BY id`)).toEqual([
        { name: 'InitialSchema1764460800000' },
        ...AFTER_INITIAL.map((name) => ({ name })),
      ]);
    });
  });

  it('after adopting, runs the later migrations; a second run does nothing', async () => {
    const file = join(dir, 'auth.sqlite');
    await withSource(source(file, { synchronize: true, release1: true }), async (ds) => {
      await ds.getRepository('User').insert(userRow({ username: 'old-bob' }));
    });
    const migrations = [INITIAL_MIGRATION, AddNote1900000000000];
    const first = await withSource(source(file, { migrations }), migrateSqlite);
    expect(first).toEqual({ version: 'AddNote1900000000000', adopted: true, applied: ['AddNote1900000000000'] });
    const second = await withSource(source(file, { migrations }), async (ds) => {
      const columns: { name: string }[] = await ds.query(`PRAGMA table_info("users")`);
      expect(columns.map((c) => c.name)).toContain('note');
      expect(await ds.query(`SELECT username FROM users`)).toEqual([{ username: 'old-bob' }]);
      return migrateSqlite(ds);
    });
    expect(second).toEqual({ version: 'AddNote1900000000000', adopted: false, applied: [] });
  });

  it("the first release's database (the committed fixture) has exactly the initial migration's schema", async () => {
    const fixture = join(__dirname, '../../../../test/fixtures/release-0.1.0/sqlite');
    for (const service of ['auth', 'key-pool']) {
      copyFileSync(join(fixture, `${service}.sqlite`), join(dir, `${service}.sqlite`));
      const release1 = await withSource(source(join(dir, `${service}.sqlite`)), schemaOf);
      const db = await SqliteDbManager.open({ dataDir: dir, service });
      expect(db.migration).toMatchObject({ adopted: true, applied: AFTER_INITIAL });
      await db.close();
      const fresh = await withSource(
        source(join(dir, `fresh-${service}.sqlite`), { migrations: [INITIAL_MIGRATION] }),
        async (ds) => {
          await migrateSqlite(ds);
          return schemaOf(ds);
        },
      );
      expect(release1).toEqual(fresh);
    }
  });

  it('two processes opening a first-release database together: one adopts, the other finds it done', async () => {
    await withSource(source(join(dir, 'auth.sqlite'), { synchronize: true, release1: true }), async () => undefined);
    const [a, b] = await Promise.all([
      SqliteDbManager.open({ dataDir: dir, service: 'auth' }),
      SqliteDbManager.open({ dataDir: dir, service: 'auth' }),
    ]);
    await a.close();
    await b.close();
    expect([a.migration?.adopted, b.migration?.adopted].sort()).toEqual([false, true]);
  });

  it('refuses a database migrated by a newer release', async () => {
    const file = join(dir, 'auth.sqlite');
    await withSource(source(file, { migrations: [INITIAL_MIGRATION, AddNote1900000000000] }), migrateSqlite);
    await expect(SqliteDbManager.open({ dataDir: dir, service: 'auth' })).rejects.toThrow(
      /migrations this release does not know \(AddNote1900000000000\)/,
    );
  });
});
