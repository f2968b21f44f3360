import { defaultKeyPolicy } from './policy';
import { parseState, serializeState } from './serialize';
import { applyOutcome, initialKeyState } from './state';

const T0 = Date.parse('2025-03-10T12:00:00Z');

describe('serializeState / parseState', () => {
  it('round-trips', () => {
    let s = initialKeyState();
    s = applyOutcome(
      s,
      { keyId: 'k', model: 'a', kind: 'rate_limited', status: 429, retryDelayMs: 60_000, reason: 'r', at: T0 },
      T0,
      defaultKeyPolicy(),
    );
    s = applyOutcome(s, { keyId: 'k', model: null, kind: 'invalid', status: 401, at: T0 }, T0, defaultKeyPolicy());
    expect(parseState(serializeState(s))).toEqual(s);
  });

  it('tolerates missing, wrong and unparseable input', () => {
    expect(parseState(null)).toEqual(initialKeyState());
    expect(parseState('')).toEqual(initialKeyState());
    expect(parseState('not json')).toEqual(initialKeyState());
    expect(parseState('[1,2]')).toEqual(initialKeyState());
    const partial = parseState(
      '{"disabled":true,"disabledReason":"x","totalRequests":"7","modelCooldowns":{"a":123,"b":{"until":5,"reason":"r"},"c":{"reason":"no until"}}}',
    );
    expect(partial).toEqual({
      ...initialKeyState(),
      disabled: true,
      disabledReason: 'x',
      modelCooldowns: { a: { until: 123, reason: '', level: 1 }, b: { until: 5, reason: 'r', level: 1 } },
    });
    expect(parseState({ lastUsedAt: T0 }).lastUsedAt).toBe(T0);
  });
});
