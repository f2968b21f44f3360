import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteDbManager } from './sqlite-db-manager';

/** Everything the SQLite driver creates under DATA_DIR is private: files 0600, directories 0700. */
describe('SQLite files are private', () => {
  const root = mkdtempSync(join(tmpdir(), 'gg-sqlite-mode-'));
  const old = process.umask(0o022);

  afterAll(() => {
    process.umask(old);
    rmSync(root, { recursive: true, force: true });
  });

  it('creates DATA_DIR 0700 and the database, its WAL and shared-memory files 0600 under a 022 umask', async () => {
    const dataDir = join(root, 'nested', 'data');
    const db = await SqliteDbManager.open({ dataDir, service: 'auth' });
    try {
      await db.kv.set('k', 'v', 60);
      expect(statSync(dataDir).mode & 0o777).toBe(0o700);
      expect(statSync(join(root, 'nested')).mode & 0o777).toBe(0o700);
      const files = readdirSync(dataDir);
      expect(files).toEqual(expect.arrayContaining(['auth.sqlite', 'auth.sqlite-wal', 'auth.sqlite-shm']));
      for (const f of files) expect([f, (statSync(join(dataDir, f)).mode & 0o777).toString(8)]).toEqual([f, '600']);
    } finally {
      await db.close();
    }
  });
});
