import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type sqlite3 from 'sqlite3';
import type { DataSource } from 'typeorm';
import { SqliteDbManager } from './sqlite-db-manager';

/** TypeORM turns on sqlite3's verbose mode for the module it is given; the DbManager gives it one that stays quiet. */
describe('the SQLite driver outside verbose mode', () => {
  const root = mkdtempSync(join(tmpdir(), 'gg-sqlite-verbose-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('runs statements through sqlite3 itself, not through the verbose-mode wrappers', async () => {
    const db = await SqliteDbManager.open({ dataDir: root, service: 'auth' });
    try {
      await db.kv.set('k', 'v', 60);
      // the connection TypeORM itself opened (private on both sides: this test is about what it was opened with)
      const ds = (db as unknown as { ds: DataSource }).ds;
      const conn = (ds.driver as unknown as { databaseConnection: sqlite3.Database }).databaseConnection;
      // verbose mode replaces each method by a wrapper that builds an Error and inspects every argument on every
      // call, failing or not (the cost this driver avoids), and writes the parameters into a failure's stack
      for (const method of ['run', 'all', 'prepare', 'exec'] as const) {
        expect([method, String(conn[method]).includes('new Error(')]).toEqual([method, false]);
      }
      const err = await new Promise<Error | null>((resolve) =>
        conn.run('INSERT INTO missing_table VALUES (?)', ['parameter-that-must-not-leak'], (e) => resolve(e)),
      );
      expect(err?.message).toContain('no such table: missing_table');
    } finally {
      await db.close();
    }
  });
});
