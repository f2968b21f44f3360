import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import type { Dispatcher } from 'undici';
import { readAnswerWhole } from './answer-whole';
import { fakeExchange } from '../testing/fake-exchange';

function start(maxBytes: number) {
  const res = new EventEmitter();
  const body = new PassThrough();
  const ex = fakeExchange(res);
  const release = jest.fn();
  const h = {
    tooLarge: jest.fn((finish: () => void) => finish()),
    end: jest.fn((_b: Buffer, finish: () => void) => finish()),
    error: jest.fn((_e: Error, finish: () => void) => finish()),
  };
  readAnswerWhole(ex, { body } as unknown as Dispatcher.ResponseData, maxBytes, release, h);
  const settled = new Promise<void>((r) => body.once('close', () => setImmediate(r)));
  return { ex, res, body, release, h, settled };
}

describe('readAnswerWhole', () => {
  it('hands the whole body to the end handler and frees the key once, even when the client then leaves', async () => {
    const { ex, res, body, release, h, settled } = start(10);
    body.write('{"a":');
    body.end('1}');
    await settled;
    res.emit('close');
    expect(h.end).toHaveBeenCalledTimes(1);
    expect(h.end.mock.calls[0][0].toString()).toBe('{"a":1}');
    expect(ex.ttfbMs).not.toBeNull();
    expect(release).toHaveBeenCalledTimes(1);
  });

  it('past the cap: the body is destroyed, only the too-large handler runs, the key is freed once', async () => {
    const { body, release, h, settled } = start(4);
    body.write('abc');
    body.write('defg');
    await settled;
    expect(body.destroyed).toBe(true);
    expect(h.tooLarge).toHaveBeenCalledTimes(1);
    expect(h.end).not.toHaveBeenCalled();
    expect(h.error).not.toHaveBeenCalled();
    expect(release).toHaveBeenCalledTimes(1);
  });

  it('a client that leaves drops the upstream body and frees the key; a break goes to the error handler', async () => {
    const left = start(100);
    left.body.write('abc');
    left.res.emit('close');
    await left.settled;
    expect(left.body.destroyed).toBe(true);
    expect(left.release).toHaveBeenCalledTimes(1);
    expect(left.h.end).not.toHaveBeenCalled();

    const broke = start(100);
    broke.body.destroy(Object.assign(new Error('reset'), { code: 'ECONNRESET' }));
    await broke.settled;
    expect(broke.h.error.mock.calls[0][0]).toMatchObject({ code: 'ECONNRESET' });
    expect(broke.release).toHaveBeenCalledTimes(1);
  });
});
