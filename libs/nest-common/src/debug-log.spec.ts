import pino from 'pino';
import { Writable } from 'node:stream';
import { DebugLog } from './debug-log';

function capture(level: string): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level }, stream), lines };
}

describe('DebugLog', () => {
  it('at debug: one object line with the stable msg and the component', async () => {
    const { logger, lines } = capture('debug');
    const debug = new DebugLog('AttemptRunner', logger);
    expect(debug.on).toBe(true);
    debug.line('pool choice', { chosen: 'k1', candidates: 2 });
    await new Promise((r) => setImmediate(r));
    expect(lines).toEqual([
      expect.objectContaining({ level: 20, msg: 'pool choice', context: 'AttemptRunner', chosen: 'k1', candidates: 2 }),
    ]);
  });

  it('at info: off, so callers build nothing; and no line even if one is written', async () => {
    const { logger, lines } = capture('info');
    const debug = new DebugLog('AttemptRunner', logger);
    expect(debug.on).toBe(false);
    debug.line('pool choice', { chosen: 'k1' });
    await new Promise((r) => setImmediate(r));
    expect(lines).toEqual([]);
  });

  it('without an app logger (no createLogger yet): off', () => {
    expect(new DebugLog('X', null).on).toBe(false);
  });
});
