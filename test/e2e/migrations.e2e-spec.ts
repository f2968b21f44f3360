import type { AuthKey, PoolKey, RequestLog, User } from '@gg/contracts';
import { startMockGemini, Stack, testRedisUrl, type MockGemini } from '@gg/testing';
import Redis from 'ioredis';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { loadNamespace, type RedisDump } from '../fixtures/redis-dump';
import { poll } from './helpers';

/**
 * Upgrading from the first release: its databases (test/fixtures/release-0.1.0, written by the apps of commit
 * 25cbf11) under the current apps. Every user, user key with its counts, pool key and log row is found intact, the
 * recorded user key still goes through the gateway and is counted, and a second start migrates nothing.
 */

const FIXTURE = join(__dirname, '../fixtures/release-0.1.0');
const REDIS_URL = testRedisUrl();

interface FixtureData {
  users: Pick<User, 'id' | 'username' | 'role' | 'isActive' | 'createdAt'>[];
  userKeys: (Partial<AuthKey> & { id: string; callCount: number })[];
  gatewayKey: { id: string; key: string };
  poolKeys: Pick<PoolKey, 'id' | 'masked'>[];
  logs: RequestLog[];
}
interface Manifest {
  adminUsername: string;
  adminPassword: string;
  userPassword: string;
  sqlite: FixtureData;
  redis: FixtureData;
}

const manifest = JSON.parse(readFileSync(join(FIXTURE, 'manifest.json'), 'utf8')) as Manifest;
const ADOPTED = 'adopted a first-release database';

/** The names of the migrations recorded in a service's SQLite file. */
async function sqliteMigrations(dataDir: string, service: string): Promise<{ id: number; name: string }[]> {
  const ds = new DataSource({ type: 'sqlite', database: join(dataDir, `${service}.sqlite`), logging: false });
  await ds.initialize();
  try {
    return await ds.query('SELECT id, name FROM migrations ORDER BY id');
  } finally {
    await ds.destroy();
  }
}

describe.each(['sqlite', 'redis'] as const)('upgrade from release 0.1.0 (%s)', (databaseType) => {
  const data = manifest[databaseType];
  const dataDir = mkdtempSync(join(tmpdir(), 'gg-migr-'));
  const namespace = Stack.newNamespace();
  let mock: MockGemini;
  let stack: Stack;
  let admin: string;
  let redis: Redis;

  const keysOf = async (userId: string): Promise<AuthKey[]> => {
    const r = await stack.api<AuthKey[]>(admin, 'GET', `/api/auth-keys?userId=${userId}`);
    expect(r.status).toBe(200);
    return r.body;
  };
  /** every user's keys, through the admin's ?userId= listing */
  const allKeys = async (): Promise<AuthKey[]> => {
    const found: AuthKey[] = [];
    for (const u of data.users) found.push(...(await keysOf(u.id)));
    return found;
  };
  const allLogs = async (): Promise<RequestLog[]> => {
    const r = await stack.api<{ items: RequestLog[] }>(admin, 'GET', '/api/logs?limit=100');
    expect(r.status).toBe(200);
    return r.body.items;
  };

  beforeAll(async () => {
    redis = new Redis(REDIS_URL);
    for (const s of ['jwt-secret', 'key-hash-secret', 'encryption-key']) {
      copyFileSync(join(FIXTURE, 'secrets', s), join(dataDir, s));
      chmodSync(join(dataDir, s), 0o600);
    }
    if (databaseType === 'sqlite') {
      for (const db of ['auth', 'key-pool'])
        copyFileSync(join(FIXTURE, 'sqlite', `${db}.sqlite`), join(dataDir, `${db}.sqlite`));
    } else {
      const dump = JSON.parse(readFileSync(join(FIXTURE, 'redis.json'), 'utf8')) as RedisDump;
      await loadNamespace(redis, dump, namespace);
    }
    mock = await startMockGemini();
    stack = await Stack.start({
      geminiBaseUrl: mock.url,
      databaseType,
      namespace,
      redisUrl: REDIS_URL,
      env: { DATA_DIR: dataDir, ADMIN_PASSWORD: manifest.adminPassword, LOG_LEVEL: 'info' },
    });
    admin = await stack.login(manifest.adminUsername, manifest.adminPassword);
  }, 90_000);

  afterAll(async () => {
    await stack?.stop();
    await mock?.close();
    redis?.disconnect();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('auth and key-pool adopted the first-release databases at start and said so', async () => {
    for (const service of ['auth', 'key-pool'] as const) expect(stack.output(service)).toContain(ADOPTED);
    if (databaseType === 'sqlite') {
      for (const service of ['auth', 'key-pool']) {
        expect(await sqliteMigrations(dataDir, service)).toEqual([
          { id: 1, name: 'InitialSchema1764460800000' },
          // the later migrations, run after the adoption
          { id: 2, name: 'AuditLog1795996800000' },
        ]);
      }
    } else {
      for (const service of ['auth', 'key-pool'])
        expect(await redis.get(`${namespace}:db:${service}:schema-version`)).toBe('1');
    }
  });

  it('finds every user, and each logs in with the recorded password (the deactivated one is still refused)', async () => {
    const r = await stack.api<User[]>(admin, 'GET', '/api/users');
    expect(r.body).toHaveLength(data.users.length);
    expect(r.body).toEqual(expect.arrayContaining(data.users.map((u) => expect.objectContaining(u))));
    for (const u of data.users.filter((x) => x.username !== manifest.adminUsername)) {
      const login = stack.login(u.username, manifest.userPassword);
      if (u.isActive) await expect(login).resolves.toEqual(expect.any(String));
      else await expect(login).rejects.toThrow(/login failed/);
    }
  });

  it('finds every user key with its settings, counts and token totals', async () => {
    const found = await allKeys();
    expect(found).toHaveLength(data.userKeys.length);
    for (const k of data.userKeys) expect(found.find((f) => f.id === k.id)).toMatchObject(k);
    expect(found.reduce((n, k) => n + k.callCount, 0)).toBe(6);
  });

  it('finds every pool key, and every log row as it was', async () => {
    const pool = await stack.api<PoolKey[]>(admin, 'GET', '/api/keys');
    expect(pool.body.map((k) => ({ id: k.id, masked: k.masked })).sort((a, b) => a.id.localeCompare(b.id))).toEqual(
      [...data.poolKeys].sort((a, b) => a.id.localeCompare(b.id)),
    );
    expect(await allLogs()).toMatchObject(data.logs);
  });

  it('serves and counts a request with the recorded user key', async () => {
    const before = data.userKeys.find((k) => k.id === data.gatewayKey.id)!;
    const r = await fetch(`${stack.gatewayUrl}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: 'POST',
      headers: { 'x-goog-api-key': data.gatewayKey.key, 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ parts: [{ text: 'after the upgrade' }] }] }),
    });
    expect(r.status).toBe(200);
    expect(await r.text()).toContain('echo: after the upgrade');
    const after = await poll(
      async () => (await allKeys()).find((k) => k.id === before.id)!,
      (k) => k.callCount === before.callCount + 1,
      10_000,
      'the request counted on the recorded key',
    );
    expect(after.promptTokens).toBeGreaterThan(before.promptTokens!);
    const logs = await poll(allLogs, (l) => l.length === data.logs.length + 1, 10_000, 'one more log row');
    expect(logs[0]).toMatchObject({ authKeyId: before.id, status: 200 });
  });

  it('a second start on the migrated data migrates nothing and keeps everything', async () => {
    const recorded = databaseType === 'sqlite' ? await sqliteMigrations(dataDir, 'auth') : null;
    for (const service of ['auth', 'key-pool'] as const) {
      await stack.signal(service, 'SIGTERM');
      await stack.spawn(service);
      expect(stack.output(service)).not.toContain(ADOPTED);
      expect(stack.output(service)).not.toContain('schema at');
    }
    if (databaseType === 'sqlite') expect(await sqliteMigrations(dataDir, 'auth')).toEqual(recorded);
    else expect(await redis.get(`${namespace}:db:auth:schema-version`)).toBe('1');
    admin = await stack.login(manifest.adminUsername, manifest.adminPassword);
    expect((await stack.api<User[]>(admin, 'GET', '/api/users')).body).toHaveLength(data.users.length);
    expect(await allLogs()).toHaveLength(data.logs.length + 1);
  });
});
