import type { AuthKeyRecord } from '@gg/contracts';
import type { IncomingMessage } from 'node:http';
import { isoTime, transactionJson, type GatewayTransaction, type TransactionSource } from './transactions';

/** The line as a log reader sees it. */
function transactionLine(...args: Parameters<typeof transactionJson>): GatewayTransaction {
  return JSON.parse(`{${transactionJson(...args)}}`) as GatewayTransaction;
}

const POOL_KEY = `AIza${'Q'.repeat(35)}`;
const USER_KEY = `gg-${'u'.repeat(40)}`;

function source(over: Partial<TransactionSource> = {}): TransactionSource {
  return {
    req: { headers: {} } as IncomingMessage,
    requestId: 'req-1',
    startedAt: Date.parse('2026-01-02T03:04:05.000Z'),
    method: 'generateContent',
    model: 'gemini-2.5-flash',
    stream: false,
    record: { id: 'ak_1', userId: 'u_1' } as AuthKeyRecord,
    poolKeyId: 'pk_2',
    tried: [
      { keyId: 'pk_1', outcome: 'transient', status: 503 },
      { keyId: 'pk_2', outcome: 'success', status: 200 },
    ],
    ttfbMs: 12.6,
    promptTokens: 45,
    outputTokens: 67,
    ...over,
  };
}

describe('transactionJson', () => {
  it('holds the ids, the route label, the attempts and the figures of the request', () => {
    const s = source();
    expect(transactionLine(s, 200, s.startedAt + 123, '10.0.0.9', false)).toEqual({
      requestId: 'req-1',
      time: '2026-01-02T03:04:05.000Z',
      userId: 'u_1',
      authKeyId: 'ak_1',
      poolKeyId: 'pk_2',
      route: 'generateContent',
      method: 'generateContent',
      model: 'gemini-2.5-flash',
      stream: false,
      status: 200,
      attempts: [
        { keyId: 'pk_1', outcome: 'transient', status: 503 },
        { keyId: 'pk_2', outcome: 'success', status: 200 },
      ],
      ttfbMs: 13,
      durationMs: 123,
      promptTokens: 45,
      outputTokens: 67,
      client: '10.0.0.9',
    });
  });

  it('labels a resource route as the metrics do, and a request refused before its key passed has no user fields', () => {
    const s = source({ method: 'GET /v1beta/files', record: undefined, tried: undefined, poolKeyId: null });
    const line = transactionLine(s, 401, s.startedAt + 1, '::1', true);
    expect(line.route).toBe('GET files');
    expect(line).not.toHaveProperty('userId');
    expect(line).not.toHaveProperty('authKeyId');
    expect(line.attempts).toEqual([]);
  });

  it('keeps the error only when asked, and never a pool key or a user key even when the error echoes them', () => {
    const error = `API key not valid: ${POOL_KEY} (presented ${USER_KEY}); gg1-${'z'.repeat(30)}`;
    expect(transactionLine(source({ error }), 200, 0, 'x', false)).not.toHaveProperty('error');
    const line = transactionLine(source({ error }), 400, 0, 'x', true);
    expect(line.error).toContain('API key not valid');
    const text = JSON.stringify(line);
    expect(text).not.toContain(POOL_KEY);
    expect(text).not.toContain(USER_KEY);
    expect(text).not.toMatch(/AIza[0-9A-Za-z_-]{20,}|gg1?-[0-9A-Za-z_-]{20,}/);
  });

  it('stays one valid JSON line whatever the client put in the model, the method, the address or the error', () => {
    const hostile = 'a"b\\c\n{"status":200}\u2028\u0000é';
    const s = source({
      model: hostile,
      method: hostile,
      error: hostile,
      tried: [{ keyId: 'k"1', outcome: 'x', status: 429 }],
    });
    const text = transactionJson(s, 400, s.startedAt + 5, hostile, true);
    expect(text).not.toContain('\n');
    const line = JSON.parse(`{${text}}`) as GatewayTransaction;
    expect(line).toMatchObject({ model: hostile, method: hostile, client: hostile, error: hostile, status: 400 });
    expect(line.attempts).toEqual([{ keyId: 'k"1', outcome: 'x', status: 429 }]);
  });

  it('a request with no model, no pool key, no first byte: nulls, as JSON.stringify of the object would give', () => {
    const s = source({ model: null, poolKeyId: null, ttfbMs: null, tried: [] });
    const line = transactionLine(s, 503, s.startedAt + 2, '::1', false);
    expect(line).toMatchObject({ model: null, poolKeyId: null, ttfbMs: null, attempts: [], durationMs: 2 });
  });

  it('writes the time as toISOString does, within a second and across seconds', () => {
    const base = Date.parse('2026-11-30T20:42:13.000Z');
    for (const ms of [base, base + 7, base + 42, base + 999, base + 1000, base + 1005, base - 1, 0, 1.5]) {
      expect(isoTime(ms)).toBe(new Date(ms).toISOString());
    }
  });
});
