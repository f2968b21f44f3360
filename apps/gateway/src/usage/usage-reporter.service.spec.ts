import type { AppConfig } from '@gg/config';
import type { UsageRecord } from '@gg/contracts';
import { UsageReporterService } from './usage-reporter.service';

const added: { records: UsageRecord[] }[] = [];
jest.mock('bullmq', () => ({
  Queue: class {
    on(): void {}
    add(_name: string, data: { records: UsageRecord[] }): Promise<void> {
      added.push(data);
      return Promise.resolve();
    }
    close(): Promise<void> {
      return Promise.resolve();
    }
  },
}));

const config = { redisUrl: 'redis://127.0.0.1:6379', redisNamespace: 't' } as AppConfig;
const rec = (id: string): UsageRecord => ({ requestId: id }) as UsageRecord;
const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('UsageReporterService', () => {
  beforeEach(() => (added.length = 0));

  it('sends the records of one event-loop turn as one job at the end of that turn, not after a 200 ms timer', async () => {
    const usage = new UsageReporterService(config);
    usage.record(rec('a'));
    usage.record(rec('b'));
    expect(added).toHaveLength(0);
    await nextTurn();
    expect(added.map((j) => j.records.map((r) => r.requestId))).toEqual([['a', 'b']]);
    // the next job follows at most a few ms later (one job per 2 ms at most)
    usage.record(rec('c'));
    usage.record(rec('d'));
    await new Promise((r) => setTimeout(r, 10)); // fixed on purpose: the bound itself is under test (a few ms, not 200)
    expect(added.map((j) => j.records.map((r) => r.requestId))).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
  });

  it('flush() sends what is buffered at once', async () => {
    const usage = new UsageReporterService(config);
    usage.record(rec('x'));
    await usage.flush();
    expect(added).toHaveLength(1);
  });
});
