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
  it('applies a batch once even when it is delivered twice, and announces only the new rows', async () => {
    const db = new FakeDb();
    const events = new FakeEvents();
    const usage = new UsageService(db, events.asService(), new ProbesService());
    db.keyRows.set('k1', {
      id: 'k1', userId: 'u1', name: 'k', prefix: 'gg-', hash: 'h', isActive: true, callCount: 0,
      promptTokens: 0, outputTokens: 0, createdAt: '2026-01-01T00:00:00.000Z', lastUsedAt: null, expiresAt: null,
      rateLimitPerMinute: null, allowedModels: null, previousHash: null, previousHashExpiresAt: null,
    });
    const batch = { records: [record('r1'), record('r2', { status: 429, error: 'quota' })] };
    expect(await usage.applyBatch(batch)).toBe(2);
    expect(await usage.applyBatch(batch)).toBe(0);
    expect(db.keyRows.get('k1')!.callCount).toBe(2);
    expect(events.appended).toHaveLength(1);
    expect(events.appended[0].map((l) => l.id)).toEqual(['r1', 'r2']);
    expect(events.appended[0][1]).toMatchObject({ id: 'r2', status: 429, error: 'quota', authKeyId: 'k1' });
    expect(events.appended[0][0]).not.toHaveProperty('requestId');
  });

  it('drops malformed records instead of failing the batch forever', async () => {
    const db = new FakeDb();
    const usage = new UsageService(db, new FakeEvents().asService(), new ProbesService());
    const records = [record('ok'), { requestId: 'bad' }, null] as unknown as UsageRecord[];
    expect(await usage.applyBatch({ records })).toBe(1);
    expect(db.logRows.map((l) => l.id)).toEqual(['ok']);
  });
});
