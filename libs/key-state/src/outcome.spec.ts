import { classifyUpstream } from './classify';
import { toAttemptOutcome } from './outcome';
import { defaultKeyPolicy } from './policy';
import { applyOutcome, initialKeyState } from './state';

const T0 = Date.parse('2025-03-10T12:00:00Z');

describe('toAttemptOutcome', () => {
  it('carries the classification and the normalized model', () => {
    const c = classifyUpstream(503, '');
    expect(toAttemptOutcome('k1', 'models/gemini-2.5-flash', 503, c, T0)).toEqual({
      keyId: 'k1',
      model: 'gemini-2.5-flash',
      kind: 'transient',
      status: 503,
      reason: '503',
      at: T0,
      overloaded: true, // a 503 says the model is overloaded, not the key bad
    });
  });

  it('stretches a per-day 429 to the Pacific midnight, so key-pool rests the key for the day', () => {
    const body = JSON.stringify({
      error: {
        code: 429,
        status: 'RESOURCE_EXHAUSTED',
        message: 'quota',
        details: [
          {
            '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
            violations: [{ quotaId: 'GenerateRequestsPerDayPerProjectPerModel-FreeTier' }],
          },
          { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '30s' },
        ],
      },
    });
    const o = toAttemptOutcome('k1', 'gemini-2.5-pro', 429, classifyUpstream(429, body), T0);
    // 2025-03-10 12:00Z is 05:00 PDT (daylight time since 9 March 2025): the next Pacific midnight is 07:00Z
    const midnight = Date.parse('2025-03-11T07:00:00Z');
    expect(o.retryDelayMs).toBe(midnight - T0);
    const s = applyOutcome(initialKeyState(), o, T0, defaultKeyPolicy());
    expect(s.modelCooldowns['gemini-2.5-pro'].until).toBe(midnight);
  });
});
