import { defaultKeyPolicy } from './policy';
import { applyOutcome, initialKeyState, type KeyState } from './state';
import { toPoolKeyView, toSnapshotKey } from './views';

const policy = defaultKeyPolicy();
const T0 = Date.parse('2025-03-10T12:00:00Z');

function busyState(): KeyState {
  let s = initialKeyState();
  s = applyOutcome(
    s,
    { keyId: 'k', model: 'a', kind: 'rate_limited', status: 429, retryDelayMs: 60_000, reason: '429 a', at: T0 },
    T0,
    policy,
  );
  s = applyOutcome(
    s,
    { keyId: 'k', model: 'b', kind: 'rate_limited', status: 429, retryDelayMs: 5_000, reason: '429 b', at: T0 },
    T0,
    policy,
  );
  s = applyOutcome(
    s,
    { keyId: 'k', model: 'a', kind: 'transient', status: 503, reason: '503 overloaded', at: T0 },
    T0,
    policy,
  );
  return s;
}

describe('toSnapshotKey', () => {
  it('carries only the rests still running', () => {
    const s = busyState();
    expect(toSnapshotKey('k', 'secret', s, T0)).toEqual({
      id: 'k',
      secret: 'secret',
      status: 'cooldown',
      cooldownUntil: 0,
      modelCooldowns: { a: T0 + 60_000, b: T0 + 5_000 },
    });
    expect(toSnapshotKey('k', 'secret', s, T0 + 10_000).modelCooldowns).toEqual({ a: T0 + 60_000 });
    expect(toSnapshotKey('k', 'secret', s, T0 + 60_000).status).toBe('active');
  });
});

describe('toPoolKeyView', () => {
  it('fills the admin PoolKey', () => {
    const view = toPoolKeyView('k', 'AIza...wxyz', busyState(), T0 + 1000, 2);
    expect(view).toEqual({
      id: 'k',
      masked: 'AIza...wxyz',
      status: 'cooldown',
      inUse: 2,
      isInUse: true,
      failureCount: 1,
      cooldownUntil: null,
      cooldowns: [
        { model: 'b', until: '2025-03-10T12:00:05.000Z', reason: '429 b' },
        { model: 'a', until: '2025-03-10T12:01:00.000Z', reason: '429 a' },
      ],
      lastUsedAt: '2025-03-10T12:00:00.000Z',
      lastError: '503 overloaded',
      totalRequests: 3,
    });
  });

  it('shows a key-wide rest and a fresh key', () => {
    let s = initialKeyState();
    for (let i = 0; i < 3; i++)
      s = applyOutcome(s, { keyId: 'k', model: null, kind: 'transient', status: 0, at: T0 }, T0, policy, () => 0.5);
    expect(toPoolKeyView('k', 'm', s, T0).cooldownUntil).toBe('2025-03-10T12:00:30.000Z');
    expect(toPoolKeyView('k', 'm', initialKeyState(), T0)).toMatchObject({
      status: 'active',
      inUse: 0,
      isInUse: false,
      lastUsedAt: null,
      cooldowns: [],
    });
  });

  it('a disabled key keeps showing why it was disabled, whatever failed on it later', () => {
    let s = applyOutcome(
      initialKeyState(),
      { keyId: 'k', model: null, kind: 'invalid', status: 400, reason: '400 API_KEY_INVALID', at: T0 },
      T0,
      policy,
    );
    s = applyOutcome(
      s,
      { keyId: 'k', model: null, kind: 'transient', status: 0, reason: 'network error', at: T0 },
      T0 + 1,
      policy,
    );
    expect(toPoolKeyView('k', 'm', s, T0 + 2)).toMatchObject({ status: 'disabled', lastError: '400 API_KEY_INVALID' });
  });
});
