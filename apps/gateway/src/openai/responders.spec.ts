import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { Exchange } from '../forward/exchange';
import { fakeExchange } from '../testing/fake-exchange';
import { ChatStreamResponder, JsonResponder } from './responders';

/** A ServerResponse that records what was written. */
class FakeRes extends EventEmitter {
  text = '';
  writableEnded = false;
  headersSent = false;
  destroyed = false;
  writeHead(): this {
    this.headersSent = true;
    return this;
  }
  flushHeaders(): void {}
  write(s: string): boolean {
    this.text += s;
    return true;
  }
  end(s?: string): this {
    if (s) this.text += s;
    this.writableEnded = true;
    return this;
  }
  destroy(): this {
    this.destroyed = true;
    return this;
  }
}

function run(): { ex: Exchange; res: FakeRes; body: PassThrough; release: jest.Mock; broken: jest.Mock } {
  const res = new FakeRes();
  const body = new PassThrough();
  const ex = fakeExchange(res);
  const release = jest.fn();
  const broken = jest.fn();
  new ChatStreamResponder('gemini-2.5-flash', false).success(
    ex,
    { body } as unknown as Dispatcher.ResponseData,
    'k1',
    release,
    broken,
  );
  return { ex, res, body, release, broken };
}

const events = (text: string): string[] =>
  text
    .split('\n\n')
    .filter(Boolean)
    .map((e) => e.slice('data: '.length));

describe('ChatStreamResponder', () => {
  it.each([
    ['a null candidate', 'data: {"candidates":[null]}\r\n\r\n'],
    ['an empty array', 'data: []\r\n\r\n'],
    ['null', 'data: null\r\n\r\n'],
  ])(
    'ends the stream with the error chunk on %s the translator cannot read: the key freed, the request failed, not the key',
    (_, chunk) => {
      const { ex, res, body, release, broken } = run();
      body.write('data: {"candidates":[{"content":{"parts":[{"text":"Hi"}]}}]}\r\n\r\n');
      // the throw happened inside the 'data' listener: it must not escape (here: out of write)
      expect(() => body.write(chunk)).not.toThrow();
      const out = events(res.text);
      expect(JSON.parse(out[0]).choices[0].delta.content).toBe('Hi');
      expect(JSON.parse(out[out.length - 1])).toEqual({
        error: {
          message: 'The upstream answer could not be read.',
          type: 'server_error',
          param: null,
          code: 'unavailable',
        },
      });
      expect(out).not.toContain('[DONE]');
      expect(res.writableEnded).toBe(true);
      expect(release).toHaveBeenCalledTimes(1);
      expect(broken).not.toHaveBeenCalled();
      expect(body.destroyed).toBe(true);
      expect(ex.error).toMatch(/^the upstream answer could not be translated: TypeError/);
      expect(ex.incomplete).toBe(true);
      // nothing more is written when the rest arrives or ends
      body.emit('end');
      expect(release).toHaveBeenCalledTimes(1);
      expect(events(res.text)).toHaveLength(out.length);
    },
  );

  it('ends a readable stream with [DONE] and frees the key once', () => {
    const { res, body, release, broken } = run();
    body.write('data: {"candidates":[{"content":{"parts":[{"text":"Hi"}]},"finishReason":"STOP"}]}\r\n\r\n');
    body.end();
    body.emit('end');
    expect(events(res.text).pop()).toBe('[DONE]');
    expect(release).toHaveBeenCalledTimes(1);
    expect(broken).not.toHaveBeenCalled();
  });
});

describe('JsonResponder', () => {
  function json(maxBytes: number, deadlineHit = false) {
    const order: string[] = [];
    const res = new FakeRes();
    const body = new PassThrough();
    const ex = fakeExchange(res, { abort: { signal: { aborted: deadlineHit } }, deadlineHit });
    new JsonResponder((g) => ({ got: g }), maxBytes).success(
      ex,
      { body } as unknown as Dispatcher.ResponseData,
      'k1',
      () => order.push('release'),
      (reason) => order.push(`broken: ${reason}`),
    );
    const settled = new Promise<void>((r) => body.once('close', () => setImmediate(r)));
    return { ex, res, body, order, settled };
  }

  it('translates the whole answer and frees the key once, as a success', async () => {
    const { ex, res, body, order, settled } = json(100);
    body.write('{"a":');
    body.end('1}');
    await settled;
    expect(JSON.parse(res.text)).toEqual({ got: { a: 1 } });
    expect(ex.status).toBe(200);
    expect(order).toEqual(['release']);
  });

  it('past the cap: a 502, the key freed and not counted as broken', async () => {
    const { ex, res, body, order, settled } = json(4);
    body.write('{"a":1}');
    await settled;
    expect(order).toEqual(['release']);
    expect(ex.status).toBe(502);
    expect(JSON.parse(res.text).error.message).toBe('The upstream answer is larger than this gateway translates.');
  });

  it.each([
    [false, 502, ['broken: upstream stream broke: ECONNRESET', 'release'], 'The upstream answer broke off.'],
    [
      true,
      504,
      ['broken: deadline exceeded after the headers: the answer was cut', 'release'],
      'The upstream did not answer before the deadline.',
    ],
  ])(
    'a cut body (deadline %s): %i, one failure of the key reported before the release',
    async (deadline, status, want, message) => {
      const { ex, res, body, order, settled } = json(100, deadline);
      body.write('{"a"');
      body.destroy(Object.assign(new Error('reset'), { code: 'ECONNRESET' }));
      await settled;
      expect(order).toEqual(want);
      expect(ex.status).toBe(status);
      expect(JSON.parse(res.text).error.message).toBe(message);
    },
  );
});
