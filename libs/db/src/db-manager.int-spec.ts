import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { testRedisUrl } from '@gg/testing';
import { createDbManager } from './create-db-manager';
import type { DbManager, DbManagerOptions } from './db-manager';
import type { ContractContext } from './testing/contract/context';
import { accountsContract } from './testing/contract/accounts.contract';
import { auditContract } from './testing/contract/audit.contract';
import { usageContract } from './testing/contract/usage.contract';
import { logsContract } from './testing/contract/logs.contract';
import { poolAndKvContract } from './testing/contract/pool-kv.contract';
import { persistenceContract } from './testing/contract/persistence.contract';
import { deleteNamespace } from './testing/fixtures';

const REDIS_URL = testRedisUrl();

/** One contract, two drivers: a real SQLite file in a temp dir, and the real Redis under a fresh namespace. */
describe.each(['sqlite', 'redis'] as const)('DbManager contract (%s)', (type) => {
  let admin: Redis;
  let dir: string;
  let namespace: string;
  let opts: DbManagerOptions;
  const ctx = {} as ContractContext;

  beforeAll(() => {
    admin = new Redis(REDIS_URL);
  });

  afterAll(async () => {
    await admin.quit();
  });

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gg-db-'));
    namespace = `t-${randomUUID().slice(0, 12)}`;
    opts = {
      type,
      service: 'svc',
      dataDir: dir,
      redisUrl: REDIS_URL,
      redisNamespace: namespace,
    };
    ctx.db = await createDbManager(opts);
    ctx.reopen = async (): Promise<DbManager> => {
      await ctx.db.close();
      ctx.db = await createDbManager(opts);
      return ctx.db;
    };
  });

  afterEach(async () => {
    await ctx.db.close();
    rmSync(dir, { recursive: true, force: true });
    await deleteNamespace(admin, namespace);
  });

  it('reports its type and answers ping', async () => {
    expect(ctx.db.type).toBe(type);
    await expect(ctx.db.ping()).resolves.toBe(true);
  });

  accountsContract(() => ctx);
  usageContract(() => ctx);
  logsContract(() => ctx);
  poolAndKvContract(() => ctx);
  auditContract(() => ctx);
  persistenceContract(
    () => ctx,
    () => ({ dir, namespace, admin }),
  );
});
