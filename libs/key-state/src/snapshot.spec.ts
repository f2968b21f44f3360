import type { AttemptOutcome, SnapshotKey } from '@gg/contracts';
import { defaultKeyPolicy } from './policy';
import { isUsable } from './selection';
import { applyOutcomeToSnapshot } from './snapshot';

const policy = defaultKeyPolicy();
const T0 = Date.parse('2025-03-10T12:00:00Z');
const key: SnapshotKey = { id: 'k', secret: 's', status: 'active', cooldownUntil: 0, modelCooldowns: {} };

function o(kind: AttemptOutcome['kind'], extra: Partial<AttemptOutcome> = {}): AttemptOutcome {
  return { keyId: 'k', model: 'a', kind, status: 0, at: T0, ...extra };
}

describe('applyOutcomeToSnapshot', () => {
  it('a 429 rests the key for that model at once, for the retry delay', () => {
    const next = applyOutcomeToSnapshot(key, o('rate_limited', { retryDelayMs: 47_000 }), T0, policy);
    expect(next).toEqual({ ...key, status: 'cooldown', modelCooldowns: { a: T0 + 47_000 } });
    expect(key.modelCooldowns).toEqual({});
    expect(isUsable(next, 'a', T0 + 1000)).toBe(false);
    expect(isUsable(next, 'b', T0 + 1000)).toBe(true);
  });

  it('without a delay, the first backoff step (jittered); per-day until Pacific midnight', () => {
    const next = applyOutcomeToSnapshot(key, o('rate_limited'), T0, policy, () => 0);
    expect(next.modelCooldowns.a).toBe(T0 + 27_000);
    const day = applyOutcomeToSnapshot(
      key,
      o('rate_limited', { reason: '429 X GenerateRequestsPerDayPerProject' }),
      T0,
      policy,
    );
    expect(day.modelCooldowns.a).toBe(Date.parse('2025-03-11T07:00:00Z')); // 2025-03-10 is in PDT: midnight is 07:00Z
  });

  it('never shortens a rest key-pool already set', () => {
    const resting = { ...key, status: 'cooldown' as const, modelCooldowns: { a: T0 + 600_000 } };
    expect(applyOutcomeToSnapshot(resting, o('rate_limited', { retryDelayMs: 1000 }), T0, policy)).toBe(resting);
  });

  it('invalid disables; other outcomes leave the local copy alone', () => {
    expect(applyOutcomeToSnapshot(key, o('invalid'), T0, policy).status).toBe('disabled');
    for (const kind of ['success', 'transient', 'affinity', 'client_error'] as const) {
      expect(applyOutcomeToSnapshot(key, o(kind), T0, policy)).toBe(key);
    }
  });
});
