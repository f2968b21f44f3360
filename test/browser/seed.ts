/**
 * Realistic data for the screenshots: users, user keys with limits, a pool with keys in every state, a week of
 * request history (handed to auth through the usage queue, exactly as gateways report it) and live traffic.
 */
import { randomUUID } from 'node:crypto';
import { GoogleGenAI } from '@google/genai';
import {
  JobName,
  QueueName,
  type AuthKey,
  type AuthKeyWithSecret,
  type Me,
  type PoolKey,
  type Stats,
  type UsageRecord,
} from '@gg/contracts';
import { poll, testRedisOptions, type MockGemini, type Stack } from '@gg/testing';
import { Queue } from 'bullmq';
import { fakeGeminiKey } from './support';

const MODELS = ['gemini-2.5-flash', 'gemini-2.5-flash', 'gemini-2.5-flash', 'gemini-2.5-pro', 'gemini-embedding-001'];

async function ok<T>(p: Promise<{ status: number; body: T }>, what: string): Promise<T> {
  const r = await p;
  if (r.status >= 300) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** A deterministic pseudo-random sequence, so every run draws the same pictures. */
function rng(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

export interface Seeded {
  pool: string[];
  keys: AuthKey[];
  laptopSecret: string;
}

export async function seed(stack: Stack, mock: MockGemini): Promise<Seeded> {
  const token = await stack.login();
  const me = await ok(stack.api<Me>(token, 'GET', '/api/auth/me'), 'me');

  for (const [username, role] of [
    ['alice', 'user'],
    ['bob.ops', 'admin'],
    ['carol', 'user'],
  ] as const) {
    const u = await ok(
      stack.api<{ id: string }>(token, 'POST', '/api/users', { username, password: `${username}-password`, role }),
      'user',
    );
    if (username === 'carol')
      await ok(stack.api(token, 'PATCH', `/api/users/${u.id}`, { isActive: false }), 'deactivate');
  }

  const pool = Array.from({ length: 5 }, () => fakeGeminiKey());
  await ok(stack.api(token, 'POST', '/api/keys', { keys: pool.join('\n') }), 'pool');
  const poolKeys = await ok(stack.api<PoolKey[]>(token, 'GET', '/api/keys'), 'pool list');

  const create = (body: object): Promise<AuthKeyWithSecret> =>
    ok(stack.api<AuthKeyWithSecret>(token, 'POST', '/api/auth-keys', body), 'auth key');
  const laptop = await create({ name: 'laptop' });
  const ci = await create({
    name: 'ci-pipeline',
    rateLimitPerMinute: 120,
    allowedModels: ['gemini-2.5-flash', 'gemini-2.5-*'],
  });
  const staging = await create({
    name: 'staging-bot',
    expiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString(),
  });
  const old = await create({ name: 'old-script' });
  await ok(stack.api(token, 'PATCH', `/api/auth-keys/${old.id}`, { isActive: false }), 'deactivate key');
  await ok(stack.api(token, 'POST', `/api/auth-keys/${staging.id}/rotate`, { graceSeconds: 86_400 }), 'rotate');

  await backfill(
    stack,
    me.id,
    [laptop.id, ci.id, staging.id, old.id],
    poolKeys.map((k) => k.id),
  );
  await liveTraffic(stack, mock, pool, laptop.key, ci.key);

  const keys = await ok(stack.api<AuthKey[]>(token, 'GET', '/api/auth-keys'), 'keys');
  return { pool, keys, laptopSecret: laptop.key };
}

/** A week of requests with a daily rhythm, busier lately; a few errors. */
async function backfill(stack: Stack, userId: string, keyIds: string[], poolIds: string[]): Promise<void> {
  const random = rng(7);
  const now = Date.now();
  const records: UsageRecord[] = [];
  const weights = [0.45, 0.3, 0.2, 0.05];
  for (let t = now - 6.8 * 86_400_000; t < now - 60_000; t += 240_000) {
    const hour = new Date(t).getUTCHours();
    const daily = 0.35 + 0.65 * Math.max(0, Math.sin(((hour - 6) / 24) * 2 * Math.PI));
    const recent = t > now - 3_600_000 ? 2.2 : 1;
    const n = Math.round(daily * recent * (1.5 + random() * 2.5));
    for (let i = 0; i < n; i++) {
      const r = random();
      const keyIndex = r < weights[0] ? 0 : r < weights[0] + weights[1] ? 1 : r < 0.95 ? 2 : 3;
      const roll = random();
      const status = roll < 0.025 ? 429 : roll < 0.035 ? 500 : 200;
      const model = MODELS[Math.floor(random() * MODELS.length)];
      const prompt = status === 200 ? Math.round(200 + random() * 1800) : 0;
      records.push({
        requestId: randomUUID(),
        at: new Date(Math.min(t + Math.floor(random() * 200_000), now - 30_000)).toISOString(),
        userId,
        authKeyId: keyIds[keyIndex],
        poolKeyId: poolIds[Math.floor(random() * 3)],
        method: model.includes('embedding')
          ? 'embedContent'
          : random() < 0.4
            ? 'streamGenerateContent'
            : 'generateContent',
        model,
        stream: false,
        status,
        attempts: status === 200 ? 1 : 3,
        latencyMs: Math.round(300 + random() * 2500),
        ttfbMs: status === 200 ? Math.round(150 + random() * 600) : null,
        promptTokens: prompt,
        outputTokens: status === 200 && !model.includes('embedding') ? Math.round(prompt * (0.3 + random())) : 0,
        error:
          status === 429
            ? 'RESOURCE_EXHAUSTED on every pool key'
            : status === 500
              ? 'upstream 500 INTERNAL'
              : undefined,
      });
    }
  }
  const queue = new Queue(QueueName.Usage, {
    connection: testRedisOptions({ maxRetriesPerRequest: null }),
    prefix: `${stack.namespace}:bull`,
  });
  try {
    for (let i = 0; i < records.length; i += 200) {
      await queue.add(JobName.UsageBatch, { records: records.slice(i, i + 200) });
    }
  } finally {
    await queue.close();
  }
  const token = await stack.login();
  await poll(
    async () =>
      (await ok(stack.api<Stats>(token, 'GET', '/api/stats?window=7d'), 'stats')).series.reduce(
        (s, p) => s + p.requests,
        0,
      ),
    (requests) => requests >= records.length,
    30_000,
    `the backfilled history (${records.length} requests)`,
    { intervalMs: 200 },
  );
}

/** Real calls through the gateway that leave pool keys rate-limited per model, cooling down and disabled. */
async function liveTraffic(stack: Stack, mock: MockGemini, pool: string[], laptop: string, ci: string): Promise<void> {
  mock.script({ type: 'rateLimit', key: pool[3], model: 'gemini-2.5-flash', retryDelay: '58s', times: 1 });
  mock.script({ type: 'rateLimit', key: pool[3], model: 'gemini-2.5-pro', retryDelay: '34s', times: 1 });
  mock.script({ type: 'invalidKey', key: pool[4], times: Infinity });
  mock.script({ type: 'error', status: 503, key: pool[2], times: 3 });
  const laptopAi = new GoogleGenAI({ apiKey: laptop, httpOptions: { baseUrl: stack.gatewayUrl } });
  const ciAi = new GoogleGenAI({ apiKey: ci, httpOptions: { baseUrl: stack.gatewayUrl } });
  for (let i = 0; i < 14; i++) {
    const ai = i % 3 === 0 ? ciAi : laptopAi;
    const model = i % 4 === 1 ? 'gemini-2.5-pro' : 'gemini-2.5-flash';
    await ai.models.generateContent({ model, contents: `request number ${i} of the demo` }).catch(() => undefined);
  }
}

/** Requests that stay in flight for a while, so the pool shows them in use. */
export function slowRequests(
  stack: Stack,
  mock: MockGemini,
  secret: string,
  count: number,
  ms: number,
): Promise<unknown> {
  mock.script({ type: 'delay', firstByteMs: ms, times: count, method: 'generateContent' });
  const ai = new GoogleGenAI({ apiKey: secret, httpOptions: { baseUrl: stack.gatewayUrl } });
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      ai.models.generateContent({ model: 'gemini-2.5-flash', contents: `a slow one ${i}` }).catch(() => undefined),
    ),
  );
}
