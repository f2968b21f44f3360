import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { BodyBudget, BodyBudgetError, BodyTooLargeError, clientBodyFailure, readBody, streamBody } from './read-body';

/** A request-like stream with headers. */
function fakeReq(headers: Record<string, string>): IncomingMessage & PassThrough {
  const s = new PassThrough() as unknown as IncomingMessage & PassThrough;
  (s as { headers: Record<string, string> }).headers = headers;
  (s as { complete: boolean }).complete = false;
  s.once('end', () => ((s as { complete: boolean }).complete = true));
  return s;
}

describe('readBody', () => {
  it('refuses an announced length over the limit before reading, and charges nothing', async () => {
    const budget = new BodyBudget(100);
    const admitted = jest.fn();
    await expect(readBody(fakeReq({ 'content-length': '51' }), 50, budget, admitted)).rejects.toBeInstanceOf(
      BodyTooLargeError,
    );
    expect(admitted).not.toHaveBeenCalled();
    expect(budget.bytes).toBe(0);
  });

  it('charges an announced length up front, refuses past the budget with 503 material, and gives it back on release', async () => {
    const budget = new BodyBudget(100);
    const a = fakeReq({ 'content-length': '60' });
    const first = readBody(a, 100, budget);
    expect(budget.bytes).toBe(60);
    await expect(readBody(fakeReq({ 'content-length': '50' }), 100, budget)).rejects.toBeInstanceOf(BodyBudgetError);
    a.end(Buffer.alloc(60));
    const body = await first;
    expect(body.length).toBe(60);
    body.release();
    body.release();
    expect(budget.bytes).toBe(0);
  });

  it('counts a chunked body as it arrives: over the limit is 413, over the budget 503, and what it held is given back', async () => {
    const budget = new BodyBudget(100);
    const big = fakeReq({ 'transfer-encoding': 'chunked' });
    const tooLarge = readBody(big, 30, budget);
    big.write(Buffer.alloc(20));
    big.write(Buffer.alloc(20));
    await expect(tooLarge).rejects.toBeInstanceOf(BodyTooLargeError);
    expect(budget.bytes).toBe(0);

    budget.tryTake(90);
    const busy = fakeReq({ 'transfer-encoding': 'chunked' });
    const refused = readBody(busy, 1000, budget);
    busy.write(Buffer.alloc(20));
    await expect(refused).rejects.toBeInstanceOf(BodyBudgetError);
    expect(budget.bytes).toBe(90);
  });

  it('charges a route that holds a body several times over by its factor', async () => {
    const budget = new BodyBudget(100);
    void readBody(fakeReq({ 'content-length': '20' }), 100, budget, undefined, 4);
    expect(budget.bytes).toBe(80);
    await expect(readBody(fakeReq({ 'content-length': '10' }), 100, budget, undefined, 4)).rejects.toBeInstanceOf(
      BodyBudgetError,
    );
  });

  it('gives the budget back when the client goes before the body ended', async () => {
    const budget = new BodyBudget(100);
    const req = fakeReq({ 'content-length': '50' });
    const p = readBody(req, 100, budget);
    req.write(Buffer.alloc(10));
    req.destroy();
    await expect(p).rejects.toThrow('closed');
    expect(budget.bytes).toBe(0);
  });
});

describe('streamBody', () => {
  it('passes the bytes through and fails past the limit as the client body, not the upstream', async () => {
    const req = fakeReq({ 'transfer-encoding': 'chunked' });
    const body = streamBody(req, 25);
    const seen: Buffer[] = [];
    body.on('data', (c: Buffer) => seen.push(c));
    const failed = new Promise((r) => body.once('error', r));
    req.write(Buffer.alloc(20));
    req.write(Buffer.alloc(20));
    expect(await failed).toBeInstanceOf(BodyTooLargeError);
    expect(Buffer.concat(seen).length).toBe(20);
    expect(clientBodyFailure(body)?.status).toBe(413);
  });

  it('refuses an announced length over the limit at once', () => {
    expect(() => streamBody(fakeReq({ 'content-length': '26' }), 25)).toThrow(BodyTooLargeError);
  });
});
