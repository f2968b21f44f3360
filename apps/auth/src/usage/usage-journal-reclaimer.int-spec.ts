import type { AppConfig } from '@gg/config';
import { QueueName, usageJournalKeys, type UsageBatchJob, type UsageRecord } from '@gg/contracts';
import { testRedisUrl } from '@gg/testing';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { UsageJournalReclaimer } from './usage-journal-reclaimer.service';

const REDIS_URL = testRedisUrl();

const record = (n: number): UsageRecord => ({
  requestId: `req-${n}`,
  at: new Date().toISOString(),
  userId: 'u1',
  authKeyId: 'k1',
  poolKeyId: null,
  method: 'generateContent',
  model: 'gemini-2.5-flash',
  stream: false,
  status: 200,
  attempts: 1,
  latencyMs: 5,
  ttfbMs: 4,
  promptTokens: 1,
  outputTokens: 2,
});

/** Against real Redis: the journals of gateways that are gone go to the usage queue; a live one's stay its own. */
describe('UsageJournalReclaimer', () => {
  const ns = `t-reclaim-${randomUUID().slice(0, 8)}`;
  const config = { redisUrl: REDIS_URL, redisNamespace: ns } as AppConfig;
  const K = usageJournalKeys;
  let redis: Redis;
  let queue: Queue<UsageBatchJob>;
  let queueConnection: Redis;
  let reclaimer: UsageJournalReclaimer;

  beforeAll(() => {
    redis = new Redis(REDIS_URL);
    queueConnection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    queue = new Queue<UsageBatchJob>(QueueName.Usage, { connection: queueConnection, prefix: `${ns}:bull` });
    reclaimer = new UsageJournalReclaimer(config);
  });
  afterAll(async () => {
    await reclaimer.onApplicationShutdown();
    await queue.close();
    await queueConnection.quit();
    const keys = await redis.keys(`${ns}:*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  async function queued(): Promise<string[][]> {
    const jobs = await queue.getJobs(['waiting'], 0, -1, true);
    return jobs.map((j) => j.data.records.map((r) => r.requestId));
  }

  it("queues a gone gateway's journal in jobs of 500 from its head, and forgets it once empty", async () => {
    const entries = Array.from({ length: 1200 }, (_, i) => JSON.stringify(record(i)));
    entries.splice(3, 0, '{not json', JSON.stringify({ requestId: 'no other field' }));
    await redis.rpush(K.journal(ns, 'gone'), ...entries);
    await redis.sadd(K.journals(ns), 'gone');
    // a live gateway (its heartbeat is set) keeps its journal
    const live = JSON.stringify(record(9999));
    await redis.rpush(K.journal(ns, 'live'), live);
    await redis.set(K.alive(ns, 'live'), '1', 'PX', 60_000);
    await redis.sadd(K.journals(ns), 'live');

    await reclaimer.reclaimNow();

    const jobs = await queued();
    expect(jobs.map((j) => j.length)).toEqual([498, 500, 202]); // 1,202 entries: the two malformed ones dropped from the first job
    expect(jobs.flat()).toEqual(Array.from({ length: 1200 }, (_, i) => `req-${i}`));
    expect(await redis.exists(K.journal(ns, 'gone'))).toBe(0);
    expect(await redis.smembers(K.journals(ns))).toEqual(['live']);
    expect(await redis.lrange(K.journal(ns, 'live'), 0, -1)).toEqual([live]);
    expect(await redis.exists(K.reclaiming(ns, 'gone'))).toBe(0);
  });

  it('leaves a journal alone while another auth replica reclaims it', async () => {
    await redis.rpush(K.journal(ns, 'held'), JSON.stringify(record(1)));
    await redis.sadd(K.journals(ns), 'held');
    await redis.set(K.reclaiming(ns, 'held'), 'another replica', 'PX', 60_000);
    const before = (await queued()).length;
    await reclaimer.reclaimNow();
    expect((await queued()).length).toBe(before);
    expect(await redis.llen(K.journal(ns, 'held'))).toBe(1);
    expect(await redis.sismember(K.journals(ns), 'held')).toBe(1);
  });
});
