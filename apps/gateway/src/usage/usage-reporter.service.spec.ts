import type { AppConfig } from '@gg/config';
import { USAGE_JOB_EVERY_MS, USAGE_JOB_MAX_RECORDS, type UsageRecord } from '@gg/contracts';
import { UsageReporterService } from './usage-reporter.service';

/** what reached "Redis", in order: journal writes, trims, jobs, heartbeats */
const calls: string[] = [];
/** each journal write lands when the test says so (or at once with autoLand) */
const landing: (() => void)[] = [];
let autoLand = false;
const jobs: { records: UsageRecord[] }[] = [];
/** the next job adds that fail (one failure each) */
let failAdds = 0;

jest.mock('ioredis', () => ({
  __esModule: true,
  default: class {
    on(): void {}
    multi(): unknown {
      const ops: string[] = [];
      const chain = {
        sadd: (_k: string, id: string) => (ops.push(`sadd ${id.length}`), chain),
        set: () => (ops.push('set alive'), chain),
        del: () => (ops.push('del'), chain),
        srem: () => (ops.push('srem'), chain),
        exec: () => {
          calls.push(`multi ${ops.join(',')}`);
          return Promise.resolve([]);
        },
      };
      return chain;
    }
    rpush(_key: string, ...entries: string[]): Promise<number> {
      calls.push(`rpush ${entries.map((e) => (JSON.parse(e) as UsageRecord).requestId).join('')}`);
      return autoLand ? Promise.resolve(1) : new Promise((r) => landing.push(() => r(1)));
    }
    ltrim(_key: string, start: number): Promise<string> {
      calls.push(`ltrim ${start}`);
      return Promise.resolve('OK');
    }
    quit(): Promise<string> {
      return Promise.resolve('OK');
    }
  },
}));
jest.mock('bullmq', () => ({
  Queue: class {
    on(): void {}
    add(_name: string, data: { records: UsageRecord[] }): Promise<void> {
      if (failAdds > 0) {
        failAdds--;
        calls.push('job refused');
        return Promise.reject(new Error('Redis away'));
      }
      jobs.push(data);
      calls.push(`job ${data.records.map((r) => r.requestId).join('')}`);
      return Promise.resolve();
    }
    close(): Promise<void> {
      return Promise.resolve();
    }
  },
}));

const config = { redisUrl: 'redis://127.0.0.1:6379', redisNamespace: 't' } as AppConfig;
const rec = (id: string): UsageRecord => ({ requestId: id }) as UsageRecord;
const writes = (): string[] => calls.filter((c) => c.startsWith('rpush'));
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('UsageReporterService', () => {
  let usage: UsageReporterService | undefined;
  beforeEach(() => {
    calls.length = 0;
    landing.length = 0;
    jobs.length = 0;
    autoLand = false;
    failAdds = 0;
  });
  afterEach(async () => {
    autoLand = true;
    landing.splice(0).forEach((land) => land());
    await usage?.onApplicationShutdown();
    usage = undefined;
  });

  it('registers its journal and its heartbeat before any write', () => {
    usage = new UsageReporterService(config);
    usage.record(rec('a'));
    expect(calls).toEqual([`multi sadd ${usage.journalId.length},set alive`, 'rpush a']);
  });

  it('writes a record to the journal at once when no write is on its way, and the next ones of the turn together', async () => {
    usage = new UsageReporterService(config);
    usage.record(rec('a'));
    expect(writes()).toEqual(['rpush a']); // not at the end of a timer, nor of the turn
    usage.record(rec('b'));
    usage.record(rec('c'));
    expect(writes()).toEqual(['rpush a']);
    await settle(); // the end of the turn, although the first write has not landed
    expect(writes()).toEqual(['rpush a', 'rpush bc']);
    landing.splice(0).forEach((land) => land());
    await settle();
    usage.record(rec('d'));
    expect(writes()).toEqual(['rpush a', 'rpush bc', 'rpush d']);
  });

  it('does not hold a record past a millisecond inside one long turn', () => {
    usage = new UsageReporterService(config);
    usage.record(rec('a'));
    usage.record(rec('b'));
    const until = performance.now() + 2;
    while (performance.now() < until); // one long turn, as under a burst of answers
    usage.record(rec('c'));
    expect(writes()).toEqual(['rpush a', 'rpush bc']);
  });

  it('queues what the journal holds as one job within the interval, then trims as many entries', async () => {
    autoLand = true;
    usage = new UsageReporterService(config);
    for (const id of ['a', 'b', 'c']) {
      usage.record(rec(id));
      await settle();
    }
    expect(jobs).toEqual([]);
    await sleep(USAGE_JOB_EVERY_MS + 50);
    expect(calls.filter((c) => !c.startsWith('multi'))).toEqual([
      'rpush a',
      'rpush b',
      'rpush c',
      'job abc',
      'ltrim 3',
    ]);
    usage.record(rec('d'));
    await sleep(USAGE_JOB_EVERY_MS + 50);
    expect(calls.slice(-3)).toEqual(['rpush d', 'job d', 'ltrim 1']);
  });

  it(`queues at once when ${USAGE_JOB_MAX_RECORDS} records are journaled`, async () => {
    autoLand = true;
    usage = new UsageReporterService(config);
    for (let i = 0; i < USAGE_JOB_MAX_RECORDS; i++) usage.record(rec('x'));
    await settle();
    await settle();
    expect(jobs.map((j) => j.records.length)).toEqual([USAGE_JOB_MAX_RECORDS]);
  });

  it('trims nothing for a job Redis refused, and queues those records first once it takes them', async () => {
    autoLand = true;
    failAdds = 1;
    usage = new UsageReporterService(config);
    usage.record(rec('a'));
    await settle();
    usage.record(rec('b'));
    await sleep(USAGE_JOB_EVERY_MS + 400); // the interval, then the retry 200 ms after the refusal
    expect(calls.filter((c) => !c.startsWith('multi'))).toEqual([
      'rpush a',
      'rpush b',
      'job refused',
      'job ab',
      'ltrim 2',
    ]);
  });

  it('flush() writes and queues everything at once; shutdown then drops the journal', async () => {
    autoLand = true;
    usage = new UsageReporterService(config);
    usage.record(rec('x'));
    usage.record(rec('y'));
    await usage.flush();
    expect(calls.filter((c) => !c.startsWith('multi'))).toEqual(['rpush x', 'rpush y', 'job xy', 'ltrim 2']);
    await usage.onApplicationShutdown();
    usage = undefined;
    expect(calls.at(-1)).toBe('multi del,srem');
  });
});
