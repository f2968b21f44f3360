import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import pino from 'pino';
import {
  contextOf,
  currentRequestId,
  requestIdMixin,
  runInContextOf,
  runOutsideRequest,
  runWithRequestId,
  withContext,
} from './request-context';
import { SealedClientRedis, SealedServerRedis } from './sealed-redis';
import { TransportSeal } from './transport-seal';

/** A pino logger as createLogger builds it (mixin included), writing its lines into an array. */
function capture(): { log: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ base: { app: 't' }, mixin: requestIdMixin }, sink), lines };
}

const flushed = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('request context', () => {
  it('names the request for everything started inside it (awaits, timers), and nothing outside', async () => {
    expect(currentRequestId()).toBeUndefined();
    const seen = await runWithRequestId('req-1', async () => {
      const first = currentRequestId();
      await flushed();
      const afterAwait = currentRequestId();
      const inTimer = await new Promise<string | undefined>((r) => setTimeout(() => r(currentRequestId()), 1));
      return [first, afterAwait, inTimer, runOutsideRequest(() => currentRequestId())];
    });
    expect(seen).toEqual(['req-1', 'req-1', 'req-1', undefined]);
    expect(currentRequestId()).toBeUndefined();
  });

  it('two requests served at once keep their own ids', async () => {
    const one = (id: string): Promise<string | undefined> =>
      runWithRequestId(id, async () => {
        await new Promise((r) => setTimeout(r, id === 'a' ? 5 : 1));
        return currentRequestId();
      });
    expect(await Promise.all([one('a'), one('b')])).toEqual(['a', 'b']);
  });

  it('the pino mixin puts requestId on the lines of a request only; a requestId the line names wins', async () => {
    const { log, lines } = capture();
    log.info('before');
    runWithRequestId('req-2', () => {
      log.info({ keyId: 'k1' }, 'inside');
      log.child({ context: 'Svc' }).warn('child');
      log.info({ requestId: 'other' }, 'names its own');
    });
    log.info('after');
    await flushed();
    expect(lines.map((l) => [l.msg, l.requestId])).toEqual([
      ['before', undefined],
      ['inside', 'req-2'],
      ['child', 'req-2'],
      ['names its own', 'other'],
      ['after', undefined],
    ]);
    expect(lines[1]).toMatchObject({ app: 't', keyId: 'k1' });
  });

  it('withContext/contextOf: the envelope travels beside the payload and only well-formed ids come out', () => {
    const packet = { pattern: 'ns:auth.login', data: { username: 'u' } };
    expect(withContext(packet)).toBe(packet);
    const sent = runWithRequestId('req-3', () => withContext(packet));
    expect(sent).toEqual({ ...packet, _ctx: { requestId: 'req-3' } });
    expect(packet).not.toHaveProperty('_ctx');
    expect(contextOf(sent)).toEqual({ requestId: 'req-3' });
    expect(contextOf({ _ctx: { requestId: 'a b\n{' } })).toEqual({});
    expect(contextOf({ _ctx: { requestId: 'x'.repeat(129) } })).toEqual({});
    expect(contextOf({ _ctx: 'req-3' })).toEqual({});
    expect(contextOf(null)).toEqual({});
    expect(runInContextOf(sent, () => currentRequestId())).toBe('req-3');
    // a message without a context is handled outside any request, even when received inside one
    expect(runWithRequestId('req-4', () => runInContextOf(packet, () => currentRequestId()))).toBeUndefined();
  });

  it('contextOf: a trace context (traceparent, links) comes out only well-formed', () => {
    const tp = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    expect(contextOf({ _ctx: { requestId: 'r', traceparent: tp, links: [tp, 'nope', 7] } })).toEqual({
      requestId: 'r',
      traceparent: tp,
      links: [tp],
    });
    expect(contextOf({ _ctx: { traceparent: `${tp}\n{"x":1}` } })).toEqual({});
    expect(contextOf({ _ctx: { traceparent: tp.toUpperCase(), links: 'not a list' } })).toEqual({});
  });

  it('over the sealed transport: a message sent for a request is handled in that request', async () => {
    const key = randomBytes(32);
    const options = { host: '127.0.0.1', port: 1, lazyConnect: true };
    const client = new SealedClientRedis(options, new TransportSeal(key));
    const server = new SealedServerRedis(options, new TransportSeal(key));
    const seen: (string | undefined)[] = [];
    server.addHandler('ns:pool.outcome', async () => void seen.push(currentRequestId()), true);
    // what ClientRedis publishes: the serializer's output as JSON
    const serialize = (p: object): string =>
      JSON.stringify((client as unknown as { serializer: { serialize(p: object): string } }).serializer.serialize(p));

    const forRequest = runWithRequestId('req-5', () => serialize({ pattern: 'ns:pool.outcome', data: { n: 1 } }));
    const forNobody = serialize({ pattern: 'ns:pool.outcome', data: { n: 2 } });
    const pub = undefined as never;
    await runWithRequestId('receiver-own', () =>
      server.handleMessage('ns:pool.outcome', forRequest, pub, 'ns:pool.outcome'),
    );
    await server.handleMessage('ns:pool.outcome', forNobody, pub, 'ns:pool.outcome');
    expect(seen).toEqual(['req-5', undefined]);
    // sealed with the rest: the id cannot be read or changed on the wire
    expect(forRequest).not.toContain('req-5');
  });
});
