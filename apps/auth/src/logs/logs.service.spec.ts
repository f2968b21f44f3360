import { Logger } from '@nestjs/common';
import { FakeDb } from '../testing/fakes';
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
