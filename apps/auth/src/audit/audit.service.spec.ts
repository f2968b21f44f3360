import { Logger } from '@nestjs/common';
import type { AuditEvent } from '@gg/contracts';
import { FakeDb } from '../testing/fakes';
import { AuditService } from './audit.service';

beforeAll(() => Logger.overrideLogger(false));

const event: AuditEvent = {
  actorName: 'old-name',
  address: '198.51.100.4',
  action: 'user.update',
  targetType: 'user',
  targetId: 'u-2',
  targetName: 'carol',
  changes: { role: 'admin', password: '(changed)' },
};
const admin = { userId: 'a-1', role: 'admin' as const, tokenVersion: 3 };

describe('AuditService', () => {
  it('stores the event for the proven actor, with the username the database has now', async () => {
    const db = new FakeDb();
    db.userRows.set('a-1', {
      id: 'a-1',
      username: 'alice',
      passwordHash: 'x',
      role: 'admin',
      isActive: true,
      tokenVersion: 3,
      createdAt: '2026-01-01T00:00:00.000Z',
    });
    const audit = new AuditService(db);
    const entry = await audit.record(admin, event, new Date('2026-03-01T00:00:00.000Z'));
    expect(entry).toEqual({
      ...event,
      id: expect.any(String),
      at: '2026-03-01T00:00:00.000Z',
      actorId: 'a-1',
      actorName: 'alice',
    });
    expect(db.auditRows).toEqual([entry]);
    expect((await audit.query({ actor: 'alice' })).items).toEqual([entry]);
  });

  it('keeps the name the admin sent when the actor no longer exists', async () => {
    const db = new FakeDb();
    const entry = await new AuditService(db).record(admin, event);
    expect(entry.actorName).toBe('old-name');
  });
});
