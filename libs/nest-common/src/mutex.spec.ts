import { KeyedMutex, Mutex } from './mutex';

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('Mutex', () => {
  it('runs sections one at a time in arrival order, and a failure does not stop the next one', async () => {
    const m = new Mutex();
    const log: string[] = [];
    let release!: () => void;
    const first = m.run(async () => {
      log.push('a start');
      await new Promise<void>((r) => (release = r));
      log.push('a end');
      throw new Error('a failed');
    });
    const second = m.run(async () => {
      log.push('b');
      return 2;
    });
    await tick();
    expect(log).toEqual(['a start']);
    expect(m.idle).toBe(false);
    release();
    await expect(first).rejects.toThrow('a failed');
    await expect(second).resolves.toBe(2);
    expect(log).toEqual(['a start', 'a end', 'b']);
    await tick();
    expect(m.idle).toBe(true);
  });
});

describe('KeyedMutex', () => {
  it('serialises sections of one key, runs other keys concurrently, and forgets idle keys', async () => {
    const m = new KeyedMutex();
    const log: string[] = [];
    let release!: () => void;
    const held = m.run('k', async () => {
      await new Promise<void>((r) => (release = r));
      log.push('k1');
    });
    const queued = m.run('k', async () => void log.push('k2'));
    await m.run('other', async () => void log.push('other'));
    expect(log).toEqual(['other']);
    release();
    await Promise.all([held, queued]);
    expect(log).toEqual(['other', 'k1', 'k2']);
    await tick();
    expect(m.size).toBe(0);
  });
});
