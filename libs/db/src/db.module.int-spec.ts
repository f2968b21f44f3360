import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Test } from '@nestjs/testing';
import { DB_MANAGER, type DbManager } from './db-manager';
import { DbModule } from './db.module';
import { userRow } from './testing/fixtures';

describe('DbModule', () => {
  const saved = { ...process.env };
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gg-dbmod-'));
    // the module reads its settings through getConfig(), from the environment
    process.env['DATA_DIR'] = dir;
    process.env['DATABASE_TYPE'] = 'sqlite';
  });

  afterAll(() => {
    process.env = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  it("opens the service's database from the configuration and closes it on shutdown", async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [DbModule.forService('auth')],
    }).compile();
    const db = moduleRef.get<DbManager>(DB_MANAGER);
    expect(db.type).toBe('sqlite');
    const user = await db.users.create(userRow());
    expect(existsSync(join(dir, 'auth.sqlite'))).toBe(true);
    expect(await db.users.findById(user.id)).toEqual(user);
    await moduleRef.close();
    expect(await db.ping()).toBe(false);
  });
});
