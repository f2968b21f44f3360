import type { AppConfig } from '@gg/config';
import type { UsageRecord } from '@gg/contracts';
import { UsageReporterService } from './usage-reporter.service';

const added: { records: UsageRecord[] }[] = [];
/** each add lands when the test says so */
const landing: (() => void)[] = [];
jest.mock('bullmq', () => ({
  Queue: class {
    on(): void {}
    add(_name: string, data: { records: UsageRecord[] }): Promise<void> {
      added.push(data);
      return new Promise((r) => landing.push(r));
    }
    close(): Promise<void> {
      return Promise.resolve();
    }
  },
}));

const config = { redisUrl: 'redis://127.0.0.1:6379', redisNamespace: 't' } as AppConfig;
const rec = (id: string): UsageRecord => ({ requestId: id }) as UsageRecord;
const ids = (): string[][] => added.map((j) => j.records.map((r) => r.requestId));
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('UsageReporterService', () => {
  beforeEach(() => {
    added.length = 0;
    landing.length = 0;
  });

  it('writes a record at once when no job is on its way, and gathers the next ones of the turn into one job', async () => {
    const usage = new UsageReporterService(config);
    usage.record(rec('a'));
    expect(ids()).toEqual([['a']]); // not at the end of a timer, nor of the turn
    usage.record(rec('b'));
    usage.record(rec('c'));
    expect(ids()).toEqual([['a']]);
    await settle(); // the end of the turn, although the first job has not landed
    expect(ids()).toEqual([['a'], ['b', 'c']]);
    landing.splice(0).forEach((land) => land());
    await settle();
    usage.record(rec('d'));
    expect(ids()).toEqual([['a'], ['b', 'c'], ['d']]);
  });

  it('does not hold a record past a millisecond inside one long turn', () => {
    const usage = new UsageReporterService(config);
    usage.record(rec('a'));
    usage.record(rec('b'));
    const until = performance.now() + 2;
    while (performance.now() < until); // one long turn, as under a burst of answers
    usage.record(rec('c'));
    expect(ids()).toEqual([['a'], ['b', 'c']]);
  });

  it('flush() sends what is buffered at once', async () => {
    const usage = new UsageReporterService(config);
    usage.record(rec('x'));
    usage.record(rec('y'));
    const flushed = usage.flush();
    expect(ids()).toEqual([['x'], ['y']]);
    landing.forEach((land) => land());
    await flushed;
  });
});
