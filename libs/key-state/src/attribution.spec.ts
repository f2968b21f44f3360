import type { AttemptOutcome } from '@gg/contracts';
import { blameOfFailures, mayStartRest } from './attribution';
import { defaultKeyPolicy } from './policy';
import { parseState, serializeState } from './serialize';
import { applyOutcome, initialKeyState, restIsWarranted, statusOf, type KeyState } from './state';

const policy = defaultKeyPolicy(3);
const T0 = Date.parse('2026-03-10T12:00:00Z');
const mid = () => 0.5;

function failure(extra: Partial<AttemptOutcome> = {}): AttemptOutcome {
  return {
    keyId: 'k1',
    model: 'gemini-2.5-flash',
    kind: 'transient',
    status: 503,
    reason: '503 UNAVAILABLE',
    at: T0,
    ...extra,
  };
}

function apply(state: KeyState, outcomes: AttemptOutcome[], mayRest = true): KeyState {
  return outcomes.reduce((s, o, i) => applyOutcome(s, o, T0 + i, policy, mid, mayRest), state);
}

describe('blameOfFailures (one request, once its attempts are over)', () => {
  it("another key served the request: the failures were the keys'", () => {
    expect(blameOfFailures(1, true)).toBe('key');
    expect(blameOfFailures(2, true)).toBe('key');
  });

  it("every key tried failed that way (2 or more): the request's, not the keys'", () => {
    expect(blameOfFailures(2, false)).toBe('request');
    expect(blameOfFailures(3, false)).toBe('request');
  });

  it('a single failure and nothing served: nothing to compare with', () => {
    expect(blameOfFailures(1, false)).toBeUndefined();
    expect(blameOfFailures(0, true)).toBeUndefined();
  });
});

describe('transient failures weighed by blame and by user', () => {
  it('failures blamed on the request cost the key nothing but a counted request', () => {
    const s = apply(
      initialKeyState(),
      Array.from({ length: 20 }, () => failure({ blame: 'request', user: 'mallory' })),
    );
    expect(s).toMatchObject({
      consecutiveFailures: 0,
      cooldownUntil: 0,
      totalRequests: 20,
      totalFailures: 0,
      lastError: null,
    });
    expect(statusOf(s, T0 + 30)).toBe('active');
  });

  it("one user's unconfirmed failures are counted but never rest the key, however many", () => {
    const s = apply(
      initialKeyState(),
      Array.from({ length: 8 }, () => failure({ user: 'mallory' })),
    );
    expect(s.consecutiveFailures).toBe(8);
    expect(s.totalRequests).toBe(8);
    expect(s.cooldownUntil).toBe(0);
    expect(s.failureUsers).toEqual(['mallory']);
  });

  it('unconfirmed failures weigh once per user: the key rests at the third user (KEY_MAX_FAILURES=3)', () => {
    const two = apply(initialKeyState(), [
      failure({ user: 'a' }),
      failure({ user: 'a' }),
      failure({ user: 'b' }),
      failure({ user: 'b' }),
    ]);
    expect(two.consecutiveFailures).toBe(4);
    expect(two.cooldownUntil).toBe(0);
    const three = applyOutcome(two, failure({ user: 'c' }), T0 + 10, policy, mid);
    expect(three.cooldownUntil).toBe(T0 + 10 + 30_000);
  });

  it('confirmed failures (another key served the same request) weigh one each, as before', () => {
    const s = apply(
      initialKeyState(),
      Array.from({ length: 3 }, () => failure({ blame: 'key', user: 'alice' })),
    );
    expect(s.cooldownUntil).toBe(T0 + 2 + 30_000);
    expect(statusOf(s, T0 + 3)).toBe('cooldown');
  });

  it("mixed: two confirmed and one user's unconfirmed failure make three", () => {
    const s = apply(initialKeyState(), [
      failure({ blame: 'key', user: 'a' }),
      failure({ blame: 'key', user: 'a' }),
      failure({ user: 'a' }),
    ]);
    expect(s.cooldownUntil).toBeGreaterThan(0);
  });

  it('outcomes with no user (health checks, older gateways) weigh one each', () => {
    expect(apply(initialKeyState(), [failure(), failure(), failure()]).cooldownUntil).toBeGreaterThan(0);
  });

  it('with KEY_MAX_FAILURES=1, one user alone still cannot rest a key with unconfirmed failures', () => {
    const one = defaultKeyPolicy(1);
    const s = applyOutcome(initialKeyState(), failure({ user: 'mallory' }), T0, one, mid);
    expect(restIsWarranted(s, 1)).toBe(false);
    expect(s.cooldownUntil).toBe(0);
    const t = applyOutcome(s, failure({ user: 'alice' }), T0 + 1, one, mid);
    expect(t.cooldownUntil).toBeGreaterThan(0);
  });

  it('a success forgets the users and the confirmed count', () => {
    const s = apply(initialKeyState(), [failure({ user: 'a' }), failure({ blame: 'key', user: 'b' })]);
    const ok = applyOutcome(s, { ...failure(), kind: 'success', status: 200 }, T0 + 5, policy, mid);
    expect(ok).toMatchObject({ consecutiveFailures: 0, confirmedFailures: 0, failureUsers: [] });
  });

  it('no rest when the share of the pool that may rest is taken (mayRest false); the failures still count', () => {
    const s = apply(
      initialKeyState(),
      Array.from({ length: 5 }, () => failure({ blame: 'key' })),
      false,
    );
    expect(s.consecutiveFailures).toBe(5);
    expect(s.cooldownUntil).toBe(0);
    // once there is room again, the next failure rests it
    expect(applyOutcome(s, failure({ blame: 'key' }), T0 + 10, policy, mid, true).cooldownUntil).toBeGreaterThan(0);
  });

  it('a state saved before weighing counts its past failures as confirmed; the new fields round-trip', () => {
    const old = parseState(JSON.stringify({ consecutiveFailures: 2, totalRequests: 9 }));
    expect(old).toMatchObject({ consecutiveFailures: 2, confirmedFailures: 2, failureUsers: [] });
    const s = apply(initialKeyState(), [failure({ user: 'a' }), failure({ user: 'b' })]);
    expect(parseState(serializeState(s))).toEqual(s);
  });
});

describe('mayStartRest (at most half of the keys not disabled rest for failures)', () => {
  const resting = (): KeyState => ({ ...initialKeyState(), cooldownUntil: T0 + 60_000 });
  const active = (): KeyState => initialKeyState();
  const disabled = (): KeyState => ({ ...initialKeyState(), disabled: true });

  it('4 keys: 2 may rest, not a third', () => {
    expect(mayStartRest([active(), active(), active(), active()], T0)).toBe(true);
    expect(mayStartRest([resting(), active(), active(), active()], T0)).toBe(true);
    expect(mayStartRest([resting(), resting(), active(), active()], T0)).toBe(false);
  });

  it('disabled keys do not count; rests that ended do not either', () => {
    expect(mayStartRest([resting(), disabled(), disabled(), active()], T0)).toBe(false);
    expect(mayStartRest([{ ...resting(), cooldownUntil: T0 - 1 }, active()], T0)).toBe(true);
  });

  it('a pool of one key never rests it for failures (there is nothing else to serve)', () => {
    expect(mayStartRest([active()], T0)).toBe(false);
    expect(mayStartRest([active(), active(), active()], T0, 0.5)).toBe(true);
  });
});
