import { Logger } from '@nestjs/common';
import { FakeDb, testConfig } from '../testing/fakes';
import { LogRetentionService } from './log-retention.service';
import { LogsService } from './logs.service';

beforeAll(() => Logger.overrideLogger(false));

describe('LogsService', () => {
  it('a user sees only their own requests, whatever userId they ask for', async () => {
    const db = new FakeDb();
    const logs = new LogsService(db);
    await logs.query({ userId: 'u1', role: 'user', tokenVersion: 0 }, { userId: 'u2', limit: 10 });
    expect(db.lastLogQuery).toEqual({ userId: 'u1', limit: 10 });
    await logs.stats({ userId: 'u1', role: 'user', tokenVersion: 0 }, '24h');
    expect(db.lastStats).toEqual({ window: '24h', userId: 'u1' });
  });

  it('an admin sees everyone, or filters by user', async () => {
    const db = new FakeDb();
    const logs = new LogsService(db);
    await logs.query({ userId: 'a', role: 'admin', tokenVersion: 0 }, { userId: 'u2' });
    expect(db.lastLogQuery).toEqual({ userId: 'u2' });
    await logs.query({ userId: 'a', role: 'admin', tokenVersion: 0 }, {});
    expect(db.lastLogQuery).toEqual({});
    await logs.stats({ userId: 'a', role: 'admin', tokenVersion: 0 }, '7d');
    expect(db.lastStats).toEqual({ window: '7d', userId: undefined });
  });
});

describe('LogRetentionService', () => {
  it('purges request logs older than LOG_RETENTION_DAYS and keeps the rest', async () => {
    const db = new FakeDb();
    const now = new Date('2026-03-10T12:00:00.000Z');
    const row = (id: string, at: string) => ({
      id,
      at,
      userId: 'u',
      authKeyId: 'k',
      poolKeyId: null,
      method: 'm',
      model: null,
      stream: false,
      status: 200,
      attempts: 1,
      latencyMs: 1,
      ttfbMs: null,
      promptTokens: 0,
      outputTokens: 0,
    });
    db.logRows.push(row('old', '2026-03-03T11:59:59.000Z'), row('kept', '2026-03-03T12:00:01.000Z'));
    const retention = new LogRetentionService(testConfig({ logRetentionDays: 7 }), db);
    expect(await retention.purge(now)).toBe(1);
    expect(db.logRows.map((l) => l.id)).toEqual(['kept']);
  });
});
