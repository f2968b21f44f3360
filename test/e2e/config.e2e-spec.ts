import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appEntry, type AppName } from '@gg/testing';

describe.each(['gateway', 'auth', 'key-pool', 'admin'] as AppName[])('%s with invalid configuration', (app) => {
  it('stops at start with one line naming the variable', () => {
    const r = spawnSync(process.execPath, [appEntry(app)], {
      env: { PATH: process.env.PATH, DATA_DIR: mkdtempSync(join(tmpdir(), 'gg-cfg-')), DATABASE_TYPE: 'postgres' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.status).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/^Invalid configuration: DATABASE_TYPE: must be one of sqlite, redis/),
    ]);
  });
});
