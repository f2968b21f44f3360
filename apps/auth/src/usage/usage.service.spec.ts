import { Logger } from '@nestjs/common';
import type { UsageRecord } from '@gg/contracts';
import { ProbesService } from '@gg/nest-common';
import { FakeDb, FakeEvents } from '../testing/fakes';
import { UsageService } from './usage.service';

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
});
