import type { AttemptOutcome, OutcomeKind } from '@gg/contracts';
import { defaultKeyPolicy } from './policy';
import {
  applyOutcome,
  applyThrottled,
  initialKeyState,
  liftCooldownsWithin,
  pruneExpired,
  resetState,
  statusOf,
  type KeyState,
} from './state';

const policy = defaultKeyPolicy();
const noJitter = () => 0.5;
const T0 = Date.parse('2025-03-10T12:00:00Z');

function outcome(kind: OutcomeKind, extra: Partial<AttemptOutcome> = {}): AttemptOutcome {
  const status = { success: 200, rate_limited: 429, invalid: 400, transient: 503, affinity: 403, client_error: 404 }[
    kind
  ];
  return { keyId: 'k1', model: 'gemini-2.5-flash', kind, status, at: T0, ...extra };
}

/** Applies outcomes one after another at the given times. */
function run(state: KeyState, steps: [number, AttemptOutcome][]): KeyState {
  return steps.reduce((s, [at, o]) => applyOutcome(s, o, at, policy, noJitter), state);
}

describe('applyOutcome', () => {
  it('counts every request and never mutates its input', () => {
    const s0 = initialKeyState();
    const frozen = JSON.stringify(s0);
    const s1 = applyOutcome(s0, outcome('client_error'), T0, policy);
    expect(JSON.stringify(s0)).toBe(frozen);
    expect(s1).toMatchObject({ totalRequests: 1, lastUsedAt: T0, totalFailures: 0, lastError: null });
    expect(statusOf(s1, T0)).toBe('active');
  });

  describe('429', () => {
    it('rests the key for that model only, for the retry delay', () => {
      const s = applyOutcome(
        initialKeyState(),
        outcome('rate_limited', { retryDelayMs: 47_000, reason: '429 quota' }),
        T0,
        policy,
      );
      expect(s.modelCooldowns['gemini-2.5-flash']).toEqual({ until: T0 + 47_000, reason: '429 quota', level: 1 });
      expect(s.cooldownUntil).toBe(0);
      expect(s).toMatchObject({ totalFailures: 1, lastError: '429 quota', consecutiveFailures: 0 });
      expect(statusOf(s, T0 + 46_999)).toBe('cooldown');
      expect(statusOf(s, T0 + 47_000)).toBe('active');
    });

    it('treats models/x and x as the same model', () => {
      const s = applyOutcome(
        initialKeyState(),
        outcome('rate_limited', { model: 'models/gemini-2.5-pro' }),
        T0,
        policy,
        noJitter,
      );
      expect(Object.keys(s.modelCooldowns)).toEqual(['gemini-2.5-pro']);
    });

    it('without a delay backs off from 30 s, doubling up to 30 min, across consecutive 429s', () => {
      let s = initialKeyState();
      let now = T0;
      const delays: number[] = [];
      for (let i = 0; i < 9; i++) {
        s = applyOutcome(s, outcome('rate_limited'), now, policy, noJitter);
        const until = s.modelCooldowns['gemini-2.5-flash'].until;
        delays.push(until - now);
        now = until; // the next attempt once the cooldown has run out
      }
      expect(delays).toEqual([30, 60, 120, 240, 480, 960, 1800, 1800, 1800].map((s) => s * 1000));
    });

    it('jitters the backoff within ±10%', () => {
      const low = applyOutcome(initialKeyState(), outcome('rate_limited'), T0, policy, () => 0);
      const high = applyOutcome(initialKeyState(), outcome('rate_limited'), T0, policy, () => 0.9999);
      expect(low.modelCooldowns['gemini-2.5-flash'].until - T0).toBe(27_000);
      expect(high.modelCooldowns['gemini-2.5-flash'].until - T0).toBeGreaterThan(32_990);
      expect(high.modelCooldowns['gemini-2.5-flash'].until - T0).toBeLessThanOrEqual(33_000);
    });

    it('late 429s of requests sent before the rest do not raise the level', () => {
      const s = run(initialKeyState(), [
        [T0, outcome('rate_limited')],
        [T0 + 100, outcome('rate_limited')],
        [T0 + 200, outcome('rate_limited')],
      ]);
      expect(s.modelCooldowns['gemini-2.5-flash']).toMatchObject({ level: 1, until: T0 + 200 + 30_000 });
    });

    it('a per-day quota rests the key until the next Pacific midnight', () => {
      const s = applyOutcome(
        initialKeyState(),
        outcome('rate_limited', {
          retryDelayMs: 20_000,
          reason: '429 RESOURCE_EXHAUSTED GenerateRequestsPerDayPerProjectPerModel-FreeTier',
        }),
        T0,
        policy,
      );
      expect(s.modelCooldowns['gemini-2.5-flash'].until).toBe(Date.parse('2025-03-11T07:00:00Z')); // PDT: midnight is 07:00Z
    });

    it('a 429 with no model rests the key for every model', () => {
      const s = applyOutcome(
        initialKeyState(),
        outcome('rate_limited', { model: null, retryDelayMs: 5000 }),
        T0,
        policy,
      );
      expect(s.modelCooldowns['*'].until).toBe(T0 + 5000);
      expect(statusOf(s, T0)).toBe('cooldown');
    });

    it('a success resets the level: the next 429 starts again from 30 s', () => {
      const s = run(initialKeyState(), [
        [T0, outcome('rate_limited')],
        [T0 + 30_000, outcome('rate_limited')],
        [T0 + 90_000, outcome('success')],
        [T0 + 100_000, outcome('rate_limited')],
      ]);
      expect(s.modelCooldowns['gemini-2.5-flash']).toMatchObject({ level: 1, until: T0 + 130_000 });
    });
  });

  describe('invalid', () => {
    it('disables the key, keeps the reason, and stays disabled through successes until reset', () => {
      let s = applyOutcome(
        initialKeyState(),
        outcome('invalid', { reason: '400 API_KEY_INVALID: API key not valid.' }),
        T0,
        policy,
      );
      expect(s).toMatchObject({
        disabled: true,
        disabledReason: '400 API_KEY_INVALID: API key not valid.',
        totalFailures: 1,
      });
      s = run(s, [
        [T0 + 1000, outcome('success')],
        [T0 + 2000, outcome('invalid', { status: 403, reason: '403 later' })],
      ]);
      expect(statusOf(s, T0 + 10 * 86_400_000)).toBe('disabled');
      expect(s.disabledReason).toBe('400 API_KEY_INVALID: API key not valid.');
      expect(s.lastError).toBe('403 later');
      const r = resetState(s);
      expect(statusOf(r, T0 + 3000)).toBe('active');
      expect(r).toMatchObject({ disabledReason: null, totalRequests: 3, totalFailures: 2 });
    });

    it('falls back to the status when no reason is given', () => {
      expect(applyOutcome(initialKeyState(), outcome('invalid', { status: 401 }), T0, policy).disabledReason).toBe(
        'HTTP 401',
      );
    });
  });

  describe('transient', () => {
    it('rests the whole key after maxFailures in a row, backing off 30 s, 60 s, ... up to 30 min', () => {
      let s = run(initialKeyState(), [
        [T0, outcome('transient')],
        [T0 + 1, outcome('transient')],
      ]);
      expect(s.consecutiveFailures).toBe(2);
      expect(statusOf(s, T0 + 2)).toBe('active');
      s = applyOutcome(s, outcome('transient', { model: 'other' }), T0 + 2, policy, noJitter);
      expect(s).toMatchObject({ consecutiveFailures: 3, backoffLevel: 1, cooldownUntil: T0 + 2 + 30_000 });
      expect(statusOf(s, T0 + 3)).toBe('cooldown');

      // each failure once the rest is over rests it again, twice as long
      const delays: number[] = [];
      let now = s.cooldownUntil;
      for (let i = 0; i < 8; i++) {
        s = applyOutcome(s, outcome('transient'), now, policy, noJitter);
        delays.push(s.cooldownUntil - now);
        now = s.cooldownUntil;
      }
      expect(delays).toEqual([60, 120, 240, 480, 960, 1800, 1800, 1800].map((x) => x * 1000));
    });

    it('failures arriving during the rest do not stretch it', () => {
      const s = run(initialKeyState(), [
        [T0, outcome('transient')],
        [T0, outcome('transient')],
        [T0, outcome('transient')],
        [T0 + 10, outcome('transient')],
      ]);
      expect(s).toMatchObject({ backoffLevel: 1, cooldownUntil: T0 + 30_000, consecutiveFailures: 4 });
    });

    it('a success in between resets the count and the backoff level', () => {
      const s = run(initialKeyState(), [
        [T0, outcome('transient')],
        [T0, outcome('transient')],
        [T0, outcome('transient')],
        [T0 + 30_000, outcome('success')],
        [T0 + 31_000, outcome('transient')],
        [T0 + 31_000, outcome('transient')],
      ]);
      expect(s).toMatchObject({ consecutiveFailures: 2, backoffLevel: 0 });
      const again = applyOutcome(s, outcome('transient'), T0 + 31_000, policy, noJitter);
      expect(again.cooldownUntil).toBe(T0 + 31_000 + 30_000);
    });

    it('respects a custom maxFailures', () => {
      const p = defaultKeyPolicy(1);
      const s = applyOutcome(initialKeyState(), outcome('transient'), T0, p, noJitter);
      expect(s.cooldownUntil).toBe(T0 + 30_000);
    });
  });

  it('affinity and client errors leave the key as it was (but count the request)', () => {
    const before = run(initialKeyState(), [
      [T0, outcome('transient')],
      [T0, outcome('transient')],
    ]);
    for (const kind of ['affinity', 'client_error'] as const) {
      const after = applyOutcome(before, outcome(kind), T0 + 5, policy);
      expect(after).toEqual({ ...before, totalRequests: before.totalRequests + 1, lastUsedAt: T0 + 5 });
    }
  });
});

describe('per-model cooldowns', () => {
  it('a 429 for model A does not block model B', () => {
    const s = applyOutcome(
      initialKeyState(),
      outcome('rate_limited', { model: 'a', retryDelayMs: 60_000 }),
      T0,
      policy,
    );
    expect(s.modelCooldowns.a).toBeDefined();
    expect(s.modelCooldowns.b).toBeUndefined();
    expect(s.cooldownUntil).toBe(0);
  });
});

describe('pruneExpired', () => {
  it('clears a finished key-wide rest and forgets model levels 30 min after their end', () => {
    const s = run(initialKeyState(), [
      [T0, outcome('rate_limited', { model: 'a', retryDelayMs: 10_000 })],
      [T0, outcome('rate_limited', { model: 'b', retryDelayMs: 3_600_000 })],
      [T0, outcome('transient')],
      [T0, outcome('transient')],
      [T0, outcome('transient')],
    ]);
    expect(pruneExpired(s, T0 + 1000)).toBe(s);
    const soon = pruneExpired(s, T0 + 40_000);
    expect(soon.cooldownUntil).toBe(0);
    expect(Object.keys(soon.modelCooldowns).sort()).toEqual(['a', 'b']);
    const later = pruneExpired(s, T0 + 10_000 + 30 * 60_000);
    expect(Object.keys(later.modelCooldowns)).toEqual(['b']);
    expect(later.backoffLevel).toBe(1);
  });
});

describe('pool-wide pause', () => {
  it('a 429 during the pause is counted but cools nothing down', () => {
    const before = run(initialKeyState(), [[T0, outcome('transient')]]);
    const after = applyThrottled(
      before,
      outcome('rate_limited', { reason: '429 RESOURCE_EXHAUSTED', retryDelayMs: 60_000 }),
      T0 + 5,
    );
    expect(after).toEqual({
      ...before,
      totalRequests: 2,
      totalFailures: 2,
      lastUsedAt: T0 + 5,
      lastError: '429 RESOURCE_EXHAUSTED',
    });
    expect(statusOf(after, T0 + 6)).toBe('active');
  });

  it('lifts the model cooldowns the pause covers, with their levels; longer ones stay', () => {
    const s = run(initialKeyState(), [
      [T0, outcome('rate_limited', { model: 'a' })],
      [T0, outcome('rate_limited', { model: 'b', retryDelayMs: 20_000 })],
      [T0, outcome('rate_limited', { model: 'c', retryDelayMs: 3_600_000 })],
    ]);
    const lifted = liftCooldownsWithin(s, T0 + 30_000);
    expect(Object.keys(lifted.modelCooldowns)).toEqual(['c']);
    expect(liftCooldownsWithin(lifted, T0 + 30_000)).toBe(lifted);
    // after the pause, a new 429 on model a starts again from the first backoff step
    const again = applyOutcome(lifted, outcome('rate_limited', { model: 'a' }), T0 + 30_000, policy, noJitter);
    expect(again.modelCooldowns.a).toMatchObject({ level: 1, until: T0 + 60_000 });
  });
});
