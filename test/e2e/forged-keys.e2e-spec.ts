import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { GoogleGenAI } from '@google/genai';
import Redis from 'ioredis';
import OpenAI from 'openai';
import type { AuthKeyWithSecret, User } from '@gg/contracts';
import { createDbManager } from '@gg/db';
import { hashUserKey } from '@gg/nest-common';
import { startMockGemini, Stack, testRedisUrl, type MockGemini } from '@gg/testing';
import { generate } from './accounts-helpers';
import { fakeGeminiKey, poll } from './helpers';

jest.setTimeout(120_000);

const REDIS_URL = testRedisUrl();
/** must be the stack's KEY_HASH_SECRET, so that the legacy key's stored hash is the one auth computes */
const KEY_HASH_SECRET = `forged-keys-${randomBytes(12).toString('hex')}`;

/** What anyone can compute (and what the old code issued): a random body and its plain SHA-256 as checksum. */
function plainKey(format: 'v1' | 'legacy'): string {
  const body = randomBytes(32).toString('base64url');
  const sum = createHash('sha256').update(body).digest();
  return format === 'v1'
    ? `gg1-${body}${sum.subarray(0, 6).toString('base64url')}`
    : `gg-${body}${sum.subarray(0, 4).toString('base64url')}`;
}

/** Forged keys make no user-key lookup, a flooding address is held back, legacy keys keep working until replaced. */
describe('forged user keys cost nothing', () => {
  let mock: MockGemini;
  let stack: Stack;
  let admin: string;
  let monitor: Redis;
  /** user-key lookups sent to auth, seen on the wire (Redis MONITOR, this stack's namespace only) */
  let lookups = 0;
  const markers = new Set<string>();
  let legacy: { id: string; key: string };
  let real: AuthKeyWithSecret;
  let addressSeq = 0;
  const nextAddress = (): string => `10.77.${(++addressSeq >> 8) & 255}.${addressSeq & 255}`;

  async function send(key: string, address: string): Promise<number> {
    return (await generate(stack.gatewayUrl, key, 'gemini-2.5-flash', { 'x-forwarded-for': address })).status;
  }

  beforeAll(async () => {
    mock = await startMockGemini();
    stack = await Stack.start({
      geminiBaseUrl: mock.url,
      databaseType: 'redis',
      env: { TRUSTED_PROXIES: '127.0.0.1', KEY_HASH_SECRET, AUTH_CACHE_TTL_SECONDS: '300' },
    });
    admin = await stack.login();
    expect((await stack.api(admin, 'POST', '/api/keys', { keys: [fakeGeminiKey(), fakeGeminiKey()] })).status).toBe(
      201,
    );

    // A key the old code issued, stored as it was: then the new auth and gateway start (an upgrade).
    const users = await stack.api<User[]>(admin, 'GET', '/api/users');
    const owner = users.body.find((u) => u.username === stack.adminUsername)!;
    legacy = { id: randomUUID(), key: plainKey('legacy') };
    const db = await createDbManager({
      type: 'redis',
      service: 'auth',
      dataDir: stack.dataDir,
      redisUrl: REDIS_URL,
      redisNamespace: stack.namespace,
    });
    await db.authKeys.create({
      id: legacy.id,
      userId: owner.id,
      name: 'from before',
      prefix: legacy.key.slice(0, 10),
      hash: hashUserKey(legacy.key, KEY_HASH_SECRET),
      isActive: true,
      callCount: 0,
      promptTokens: 0,
      outputTokens: 0,
      createdAt: new Date().toISOString(),
      lastUsedAt: null,
      expiresAt: null,
      rateLimitPerMinute: null,
      allowedModels: null,
      previousHash: null,
      previousHashExpiresAt: null,
    });
    await db.close();
    await stack.signal('auth', 'SIGTERM');
    await stack.signal('gateway', 'SIGTERM');
    await stack.spawn('auth');
    await stack.spawn('gateway');

    real = (await stack.api<AuthKeyWithSecret>(admin, 'POST', '/api/auth-keys', { name: 'real' })).body;
    expect(real.key).toMatch(/^gg1-/);

    const base = new Redis(REDIS_URL);
    monitor = await base.monitor();
    base.disconnect();
    const channel = `${stack.namespace}:auth.key.verify`;
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (args[0]?.toLowerCase() !== 'publish') return;
      if (args[1] === channel) lookups++;
      else if (args[1] === `${stack.namespace}:test.marker`) markers.add(args[2]);
    });
  });

  /**
   * Wait until MONITOR has shown everything Redis ran before now: a lookup behind an answer already received was
   * published before it, so once a marker published now is seen, the count is complete.
   */
  async function settle(): Promise<void> {
    const marker = randomUUID();
    const pub = new Redis(REDIS_URL);
    await pub.publish(`${stack.namespace}:test.marker`, marker);
    pub.disconnect();
    await poll(
      async () => markers.has(marker),
      (seen) => seen,
      5000,
      'the marker on MONITOR',
    );
  }

  afterAll(async () => {
    monitor?.disconnect();
    await stack?.stop();
    await mock?.close();
  });

  it('a key made by the old algorithm before the upgrade keeps working (with the official SDK)', async () => {
    const before = lookups;
    const ai = new GoogleGenAI({ apiKey: legacy.key, httpOptions: { baseUrl: stack.gatewayUrl } });
    const answer = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'hello' });
    expect(answer.text).toBeTruthy();
    // the counting works: that first use was one lookup on the wire
    await settle();
    expect(lookups - before).toBe(1);
    const listed = await stack.api<{ id: string; prefix: string }[]>(admin, 'GET', '/api/auth-keys');
    expect(listed.body.find((k) => k.id === legacy.id)?.prefix).toBe(legacy.key.slice(0, 10));
  });

  it('a flood of forged keys makes no lookup at all, while a real key keeps working', async () => {
    const ai = new GoogleGenAI({
      apiKey: real.key,
      httpOptions: { baseUrl: stack.gatewayUrl, headers: { 'x-forwarded-for': '10.99.0.1' } },
    });
    expect((await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'warm' })).text).toBeTruthy();
    await settle();
    const before = lookups;

    // 150 addresses x 20 forged keys each (current format with a plain checksum, or junk): all 401, none looked up
    const forged: Promise<number>[] = [];
    const statuses: number[] = [];
    let realOk = 0;
    let flooding = true;
    const realLoop = (async () => {
      while (flooding) {
        const r = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'still here?' });
        if (r.text) realOk++;
      }
    })();
    for (let a = 0; a < 150; a++) {
      const address = nextAddress();
      for (let i = 0; i < 20; i++) {
        const key = i % 5 === 4 ? `gg1-${randomBytes(38).toString('base64url').slice(0, 51)}` : plainKey('v1');
        forged.push(send(key, address));
      }
      if (forged.length >= 300) statuses.push(...(await Promise.all(forged.splice(0))));
    }
    statuses.push(...(await Promise.all(forged)));
    flooding = false;
    await realLoop;

    expect(statuses).toHaveLength(3000);
    expect(statuses.every((s) => s === 401)).toBe(true);
    expect(realOk).toBeGreaterThan(0);
    await settle();
    expect(lookups - before).toBe(0);
  });

  it('an address that fails too often gets 429 with Retry-After, in each API shape; other addresses do not', async () => {
    const attacker = '198.51.100.7';
    for (let i = 0; i < 20; i++) expect(await send(plainKey('v1'), attacker)).toBe(401);

    const refused = await generate(stack.gatewayUrl, plainKey('v1'), 'gemini-2.5-flash', {
      'x-forwarded-for': attacker,
    });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(50);
    expect(JSON.parse(refused.body).error).toMatchObject({ code: 429, status: 'RESOURCE_EXHAUSTED' });

    const genai = new GoogleGenAI({
      apiKey: plainKey('v1'),
      httpOptions: { baseUrl: stack.gatewayUrl, headers: { 'x-forwarded-for': attacker } },
    });
    await expect(genai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'x' })).rejects.toMatchObject({
      status: 429,
    });

    const openai = new OpenAI({
      apiKey: plainKey('v1'),
      baseURL: `${stack.gatewayUrl}/v1`,
      maxRetries: 0,
      defaultHeaders: { 'x-forwarded-for': attacker },
    });
    const err = await openai.chat.completions
      .create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    const limited = err as InstanceType<typeof OpenAI.RateLimitError>;
    expect(Number(limited.headers?.get('retry-after'))).toBeGreaterThan(50);
    expect(limited.error).toMatchObject({ message: expect.any(String), type: expect.any(String) });

    // another client: its real key works and its mistakes are plain 401s
    const other = '198.51.100.8';
    expect(await send(real.key, other)).toBe(200);
    expect(await send(plainKey('v1'), other)).toBe(401);
    // and a new key that the gateway has not seen yet is held back on the flooding address only
    const fresh = (await stack.api<AuthKeyWithSecret>(admin, 'POST', '/api/auth-keys', { name: 'fresh' })).body;
    expect(await send(fresh.key, attacker)).toBe(429);
    expect(await send(fresh.key, other)).toBe(200);
  });

  it('once the last legacy key is replaced, legacy-format keys are refused without asking auth', async () => {
    // while a legacy key exists a legacy-format key must be looked up: this one costs one lookup
    let before = lookups;
    expect(await send(plainKey('legacy'), nextAddress())).toBe(401);
    await settle();
    expect(lookups - before).toBe(1);

    const rotated = await stack.api<AuthKeyWithSecret>(admin, 'POST', `/api/auth-keys/${legacy.id}/rotate`, {});
    expect(rotated.status).toBe(200);
    expect(rotated.body.key).toMatch(/^gg1-/);
    // the gateway hears of the change and asks auth again: from then on no lookup
    await poll(
      async () => {
        const n = lookups;
        const status = await send(plainKey('legacy'), nextAddress());
        await settle();
        return { status, looked: lookups - n };
      },
      (v) => v.status === 401 && v.looked === 0,
      10_000,
      'legacy-format keys refused unasked',
    );
    before = lookups;
    const statuses = await Promise.all(
      Array.from({ length: 200 }, (_, i) => send(plainKey('legacy'), `10.88.${i >> 4}.${i & 15}`)),
    );
    expect(statuses.every((s) => s === 401)).toBe(true);
    expect(await send(legacy.key, nextAddress())).toBe(401);
    expect(await send(rotated.body.key, nextAddress())).toBe(200);
    await settle();
    expect(lookups - before).toBe(1); // the rotated key's first use, nothing else
  });
});
