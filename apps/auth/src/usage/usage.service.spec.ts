import { Logger } from '@nestjs/common';
import type { UsageRecord } from '@gg/contracts';
import { ProbesService } from '@gg/nest-common';
import { FakeDb, FakeEvents } from '../testing/fakes';
import { MAX_GROUP_RECORDS, UsageService } from './usage.service';

beforeAll(() => Logger.overrideLogger(false));

function record(requestId: string, over: Partial<UsageRecord> = {}): UsageRecord {
  return {
    requestId,
    at: '2026-01-01T00:00:00.000Z',
    userId: 'u1',
    authKeyId: 'k1',
    poolKeyId: 'p1',
    method: 'generateContent',
    model: 'gemini-2.5-flash',
    stream: false,
    status: 200,
    attempts: 1,
    latencyMs: 120,
    ttfbMs: 80,
    promptTokens: 10,
    outputTokens: 20,
    ...over,
  };
}

describe('UsageService', () => {
  // De-duplication itself is the store's (db contract: persistence.contract.ts; end to end: auth.int-spec.ts
  // "applies a usage batch once"). Here: the service passes the batch on and announces only what the store applied.
  it('announces and counts only the records the store reports as new, and returns how many were new', async () => {
    const db = new FakeDb();
    const events = new FakeEvents();
    const probes = new ProbesService();
    const usage = new UsageService(db, events.asService(), probes);
    const batch = { records: [record('r1'), record('r2', { status: 429, error: 'quota' })] };
    const apply = jest.spyOn(db.usage, 'apply').mockResolvedValue([batch.records[1]]); // r1 was applied before
    expect(await usage.applyBatch(batch)).toBe(1);
    expect(apply).toHaveBeenCalledWith(batch.records);
    expect(events.appended).toHaveLength(1);
    expect(events.appended[0].map((l) => l.id)).toEqual(['r2']);
    expect(events.appended[0][0]).toMatchObject({ id: 'r2', status: 429, error: 'quota', authKeyId: 'k1' });
    expect(events.appended[0][0]).not.toHaveProperty('requestId');
    const metrics = await probes.registry.getSingleMetricAsString('gg_auth_usage_records_total');
    expect(metrics).toContain('gg_auth_usage_records_total{result="applied"} 1');
    expect(metrics).toContain('gg_auth_usage_records_total{result="duplicate"} 1');
  });

  it('drops malformed records instead of failing the batch forever', async () => {
    const db = new FakeDb();
    const usage = new UsageService(db, new FakeEvents().asService(), new ProbesService());
    const records = [record('ok'), { requestId: 'bad' }, null] as unknown as UsageRecord[];
    expect(await usage.applyBatch({ records })).toBe(1);
    expect(db.logRows.map((l) => l.id)).toEqual(['ok']);
  });

  it('applies the jobs that arrive while the store is busy in one store call, each counting its own records', async () => {
    const db = new FakeDb();
    const events = new FakeEvents();
    const probes = new ProbesService();
    const usage = new UsageService(db, events.asService(), probes);
    const calls: string[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const stored = new Set<string>();
    jest.spyOn(db.usage, 'apply').mockImplementation(async (records: UsageRecord[]) => {
      calls.push(records.map((r) => r.requestId));
      if (calls.length === 1) await gate; // the store is busy with the first job
      // the store's contract: a request id counts once, within a call and across calls
      return records.filter((r) => !stored.has(r.requestId) && Boolean(stored.add(r.requestId)));
    });
    const first = usage.applyBatch({ records: [record('a')] });
    const second = usage.applyBatch({ records: [record('b'), record('c')] });
    const third = usage.applyBatch({ records: [record('c'), record('d'), record('a')] });
    release();
    expect(await Promise.all([first, second, third])).toEqual([1, 2, 1]);
    expect(calls).toEqual([['a'], ['b', 'c', 'c', 'd', 'a']]);
    // each new request announced once, by the job that claimed it
    expect(
      events.appended
        .flat()
        .map((l) => l.id)
        .sort(),
    ).toEqual(['a', 'b', 'c', 'd']);
    const metrics = await probes.registry.getSingleMetricAsString('gg_auth_usage_records_total');
    expect(metrics).toContain('gg_auth_usage_records_total{result="applied"} 4');
    expect(metrics).toContain('gg_auth_usage_records_total{result="duplicate"} 2');
  });

  it('fails every job of a store call that fails, and applies the next ones', async () => {
    const db = new FakeDb();
    const usage = new UsageService(db, new FakeEvents().asService(), new ProbesService());
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const apply = jest
      .spyOn(db.usage, 'apply')
      .mockImplementationOnce(async (records: UsageRecord[]) => {
        await gate;
        return records;
      })
      .mockRejectedValueOnce(new Error('SQLITE_BUSY'));
    const first = usage.applyBatch({ records: [record('a')] });
    const second = usage.applyBatch({ records: [record('b')] });
    const third = usage.applyBatch({ records: [record('c')] });
    release();
    expect(await first).toBe(1);
    await expect(second).rejects.toThrow('SQLITE_BUSY');
    await expect(third).rejects.toThrow('SQLITE_BUSY');
    apply.mockRestore();
    expect(await usage.applyBatch({ records: [record('b'), record('c')] })).toBe(2);
  });

  it('does not put more than MAX_GROUP_RECORDS records in one store call, but never splits a job', async () => {
    const db = new FakeDb();
    const usage = new UsageService(db, new FakeEvents().asService(), new ProbesService());
    const sizes: number[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    jest.spyOn(db.usage, 'apply').mockImplementation(async (records: UsageRecord[]) => {
      sizes.push(records.length);
      if (sizes.length === 1) await gate;
      return records;
    });
    const job = (prefix: string, n: number) => ({
      records: Array.from({ length: n }, (_, i) => record(`${prefix}${i}`)),
    });
    const jobs = [
      usage.applyBatch(job('x', 1)),
      usage.applyBatch(job('a', MAX_GROUP_RECORDS - 10)),
      usage.applyBatch(job('b', 20)),
      usage.applyBatch(job('c', MAX_GROUP_RECORDS + 5)),
    ];
    release();
    await Promise.all(jobs);
    expect(sizes).toEqual([1, MAX_GROUP_RECORDS - 10, 20, MAX_GROUP_RECORDS + 5]);
  });

  it('overlaps two store calls on Redis (one on SQLite), the jobs arriving meanwhile gathering into the next', async () => {
    const db = new FakeDb();
    Object.defineProperty(db, 'type', { value: 'redis' });
    const usage = new UsageService(db, new FakeEvents().asService(), new ProbesService());
    const calls: string[][] = [];
    const gates: (() => void)[] = [];
    jest.spyOn(db.usage, 'apply').mockImplementation(async (records: UsageRecord[]) => {
      calls.push(records.map((r) => r.requestId));
      await new Promise<void>((r) => gates.push(r));
      return records;
    });
    const jobs = ['a', 'b', 'c', 'd'].map((id) => usage.applyBatch({ records: [record(id)] }));
    await new Promise((r) => setImmediate(r));
    expect(calls).toEqual([['a'], ['b']]); // two in flight, c and d wait
    gates[0]();
    await jobs[0];
    await new Promise((r) => setImmediate(r));
    expect(calls).toEqual([['a'], ['b'], ['c', 'd']]);
    gates[1]();
    gates[2]();
    expect(await Promise.all(jobs)).toEqual([1, 1, 1, 1]);
  });
});
