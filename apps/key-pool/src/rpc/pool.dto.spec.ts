import type { AttemptOutcome } from '@gg/contracts';
import { parseOutcomeBatch } from './pool.dto';

const outcome = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  keyId: 'k1',
  model: 'gemini-2.5-flash',
  kind: 'rate_limited',
  status: 429,
  retryDelayMs: 1500,
  reason: 'quota',
  at: 1_700_000_000_000,
  count: 2,
  user: 'u1',
  blame: 'key',
  overloaded: false,
  requestId: 'req-1',
  ...over,
});

describe('parseOutcomeBatch', () => {
  it('accepts what the gateway sends, as it is', () => {
    const minimal: AttemptOutcome = { keyId: 'k2', model: null, kind: 'success', status: 200, at: 1 };
    const batch = { gatewayId: 'g1', seq: 7, outcomes: [outcome(), minimal] };
    expect(parseOutcomeBatch(batch)).toBe(batch);
    expect(parseOutcomeBatch({ gatewayId: 'g1', outcomes: [] })).toEqual({ gatewayId: 'g1', outcomes: [] });
    // optional fields may be null, as class-validator's IsOptional allowed
    expect(
      parseOutcomeBatch({ gatewayId: 'g1', seq: null, outcomes: [outcome({ count: null, blame: null })] }),
    ).not.toBeNull();
  });

  it.each([
    ['not an object', 'x'],
    ['an array', []],
    ['no gateway id', { outcomes: [] }],
    ['a negative seq', { gatewayId: 'g', seq: -1, outcomes: [] }],
    ['a fractional seq', { gatewayId: 'g', seq: 1.5, outcomes: [] }],
    ['outcomes not an array', { gatewayId: 'g', outcomes: {} }],
    ['an unknown batch field', { gatewayId: 'g', outcomes: [], extra: 1 }],
  ])('refuses a batch with %s', (_what, batch) => {
    expect(parseOutcomeBatch(batch)).toBeNull();
  });

  it.each([
    ['no key id', { keyId: undefined }],
    ['a numeric model', { model: 5 }],
    ['an unknown kind', { kind: 'exploded' }],
    ['a status above 999', { status: 1000 }],
    ['a fractional status', { status: 200.5 }],
    ['a negative retry delay', { retryDelayMs: -1 }],
    ['a reason over 1000 characters', { reason: 'x'.repeat(1001) }],
    ['no time', { at: undefined }],
    ['a time that is not finite', { at: Number.POSITIVE_INFINITY }],
    ['a count of 0', { count: 0 }],
    ['a user over 128 characters', { user: 'u'.repeat(129) }],
    ['an unknown blame', { blame: 'upstream' }],
    ['overloaded as a string', { overloaded: 'yes' }],
    ['a request id over 128 characters', { requestId: 'r'.repeat(129) }],
    ['an unknown field', { secret: 'AIza…' }],
  ])('refuses the whole batch when one outcome has %s', (_what, over) => {
    expect(parseOutcomeBatch({ gatewayId: 'g', outcomes: [outcome(), outcome(over)] })).toBeNull();
  });
});
