import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { Responder } from '../forward/exchange';
import { fakeExchange } from '../testing/fake-exchange';
import { CatalogueListResponder } from './catalogue-responder';
import type { ModelCatalogue } from './model-catalogue';

function start(maxBytes: number) {
  const order: string[] = [];
  const res = Object.assign(new EventEmitter(), { writeHead: jest.fn(), end: jest.fn() });
  const body = new PassThrough();
  const ex = fakeExchange(res);
  const errors = jest.fn(() => order.push('answer'));
  const native = { errors, upstreamError: jest.fn() } as unknown as Responder;
  const catalogue = { listPage: (p: Record<string, unknown>) => ({ ...p, shown: true }) } as unknown as ModelCatalogue;
  new CatalogueListResponder(native, catalogue, maxBytes).success(
    ex,
    { body, statusCode: 200, headers: {} } as unknown as Dispatcher.ResponseData,
    'k1',
    () => order.push('release'),
    (reason) => order.push(`broken: ${reason}`),
  );
  const settled = new Promise<void>((r) => body.once('close', () => setImmediate(r)));
  return { ex, res, body, errors, order, settled };
}

describe('CatalogueListResponder', () => {
  it('sends the page as the catalogue shows it, with its length', async () => {
    const { res, body, order, settled } = start(100);
    body.end('{"models":[]}');
    await settled;
    const text = '{"models":[],"shown":true}';
    expect(res.writeHead).toHaveBeenCalledWith(200, {
      'content-type': 'application/json; charset=UTF-8',
      'content-length': text.length,
    });
    expect(String(res.end.mock.calls[0][0])).toBe(text);
    expect(order).toEqual(['release']);
  });

  it('past the cap: one failure of the key reported before the release, then the native 502', async () => {
    const { ex, body, errors, order, settled } = start(4);
    body.write('{"models":[]}');
    await settled;
    expect(order).toEqual(['broken: the upstream answer is larger than MAX_ANSWER_BODY_MB', 'release', 'answer']);
    expect(errors).toHaveBeenCalledWith(ex.res, 502, 'UNAVAILABLE', 'The model list is too large.');
    expect(ex.status).toBe(502);
  });

  it('a break mid-body: reported before the release, then the native 502', async () => {
    const { ex, body, errors, order, settled } = start(100);
    body.write('{"mod');
    body.destroy(new Error('reset'));
    await settled;
    expect(order).toEqual(['broken: upstream stream broke', 'release', 'answer']);
    expect(errors).toHaveBeenCalledWith(ex.res, 502, 'UNAVAILABLE', 'The upstream answer broke off.');
  });

  it('the deadline mid-body (the sweep marks it and aborts at once): the native 504, not silence', async () => {
    const { ex, body, errors, order, settled } = start(100);
    body.write('{"mod');
    Object.assign(ex, { deadlineHit: true, abort: { signal: { aborted: true } } });
    body.destroy(new Error('aborted'));
    await settled;
    expect(order).toEqual(['broken: deadline exceeded after the headers: the answer was cut', 'release', 'answer']);
    expect(errors).toHaveBeenCalledWith(ex.res, 504, 'DEADLINE_EXCEEDED', 'The upstream did not answer in time.');
  });
});
