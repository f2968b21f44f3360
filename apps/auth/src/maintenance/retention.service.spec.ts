import { Logger } from '@nestjs/common';
import { JobName, type AuditEntry, type RequestLog } from '@gg/contracts';
import { FakeDb, testConfig } from '../testing/fakes';
import { RetentionService } from './retention.service';

beforeAll(() => Logger.overrideLogger(false));

const log = (id: string, at: string): RequestLog =>
  ({
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
  }) as RequestLog;
const entry = (id: string, at: string): AuditEntry =>
  ({
    id,
    at,
    actorId: 'a-1',
    actorName: 'admin',
    address: '127.0.0.1',
    action: 'user.create',
    targetType: 'user',
    targetId: 'u-1',
    targetName: 'bob',
    changes: {},
  }) as unknown as AuditEntry;

describe('RetentionService', () => {
  it('purges request logs older than LOG_RETENTION_DAYS, and only those, on a log-retention job', async () => {
    const db = new FakeDb();
    db.logRows.push(log('old', '2026-03-03T11:59:59.000Z'), log('kept', '2026-03-03T12:00:01.000Z'));
    db.auditRows.push(entry('audit-old', '2020-01-01T00:00:00.000Z'));
    const retention = new RetentionService(testConfig({ logRetentionDays: 7 }), db);
    expect(await retention.run(JobName.LogRetention, new Date('2026-03-10T12:00:00.000Z'))).toBe(1);
    expect(db.logRows.map((l) => l.id)).toEqual(['kept']);
    expect(db.auditRows).toHaveLength(1);
  });

  it('purges audit entries older than AUDIT_RETENTION_DAYS, and only those, on an audit-retention job', async () => {
    const db = new FakeDb();
    db.auditRows.push(entry('old', '2026-03-01T11:59:59.000Z'), entry('kept', '2026-03-01T12:00:01.000Z'));
    db.logRows.push(log('log-old', '2020-01-01T00:00:00.000Z'));
    const retention = new RetentionService(testConfig({ auditRetentionDays: 30 }), db);
    expect(await retention.run(JobName.AuditRetention, new Date('2026-03-31T12:00:00.000Z'))).toBe(1);
    expect(db.auditRows.map((e) => e.id)).toEqual(['kept']);
    expect(db.logRows).toHaveLength(1);
  });

  it('deletes nothing for a job of a name it does not know', async () => {
    const db = new FakeDb();
    db.logRows.push(log('old', '2020-01-01T00:00:00.000Z'));
    const retention = new RetentionService(testConfig(), db);
    expect(await retention.run('something.else')).toBe(0);
    expect(db.logRows).toHaveLength(1);
  });
});
