import type { AppConfig } from '@gg/config';
import type { AttemptOutcome } from '@gg/contracts';
import type { DbManager } from '@gg/db';
import { initialKeyState } from '@gg/key-state';
import type { CryptoService } from '../secrets/crypto.service';
import { PoolStateService } from './pool-state.service';

const T0 = Date.parse('2026-03-10T12:00:00Z');

function pool(n: number): PoolStateService {
  const db = {
    kv: { set: () => Promise.resolve(), delete: () => Promise.resolve(), get: () => Promise.resolve(null) },
  };
  const s = new PoolStateService({ keyMaxFailures: 3 } as AppConfig, db as unknown as DbManager, {} as CryptoService);
  s.add(
    Array.from({ length: n }, (_, i) => ({
      id: `k${i}`,
      secret: `AIza-secret-${i}`,
      fingerprint: `f${i}`,
      masked: `AIza…${i}`,
      createdAt: new Date(T0).toISOString(),
      state: initialKeyState(),
    })),
  );
  return s;
}

function fail(keyId: string, extra: Partial<AttemptOutcome> = {}): AttemptOutcome {
  return { keyId, model: 'gemini-2.5-flash', kind: 'transient', status: 500, reason: '500 INTERNAL', at: T0, ...extra };
}

describe('PoolStateService: fault attribution over the pool', () => {
  it('confirmed failures rest at most half of the keys not disabled; the others keep counting but serve', () => {
    const p = pool(4);
    for (const id of ['k0', 'k1', 'k2'])
      p.applyOutcomes([fail(id, { blame: 'key' }), fail(id, { blame: 'key' }), fail(id, { blame: 'key' })], T0);
    const snap = p.snapshot(T0 + 1);
    expect(snap.keys.map((k) => k.status)).toEqual(['cooldown', 'cooldown', 'active', 'active']);
    expect(p.get('k2')!.state.consecutiveFailures).toBe(3);
    // when a rest ends there is room again: the next failure of k2 rests it
    p.update(['k0'], (s) => ({ ...s, cooldownUntil: 0 }), T0 + 2);
    p.applyOutcomes([fail('k2', { blame: 'key' })], T0 + 3);
    expect(p.get('k2')!.state.cooldownUntil).toBeGreaterThan(T0 + 3);
  });

  it("one user's poison requests (503 on every key, blamed on the request) leave every key active", () => {
    const p = pool(4);
    for (let i = 0; i < 10; i++) {
      p.applyOutcomes(
        ['k0', 'k1', 'k2'].map((id) => fail(id, { status: 503, overloaded: true, blame: 'request', user: 'mallory' })),
        T0 + i,
      );
    }
    const snap = p.snapshot(T0 + 20);
    expect(snap.keys.every((k) => k.status === 'active' && k.cooldownUntil === 0)).toBe(true);
    expect(snap.modelPausedUntil).toEqual({});
    expect(p.get('k0')!.state).toMatchObject({ consecutiveFailures: 0, totalRequests: 10 });
  });

  it('overloaded answers for one model from several keys and users rest the model, not the keys', () => {
    const p = pool(4);
    p.applyOutcomes(
      ['k0', 'k1'].map((id) =>
        fail(id, { model: 'gemini-2.5-pro', status: 503, overloaded: true, blame: 'request', user: 'alice' }),
      ),
      T0,
    );
    expect(p.snapshot(T0).modelPausedUntil).toEqual({});
    p.applyOutcomes(
      ['k2', 'k3'].map((id) =>
        fail(id, { model: 'gemini-2.5-pro', status: 503, overloaded: true, blame: 'request', user: 'bob' }),
      ),
      T0 + 500,
    );
    const snap = p.snapshot(T0 + 600);
    expect(snap.modelPausedUntil).toEqual({ 'gemini-2.5-pro': T0 + 10_500 });
    expect(snap.keys.every((k) => k.status === 'active' && Object.keys(k.modelCooldowns).length === 0)).toBe(true);
    p.clearPause();
    expect(p.snapshot(T0 + 700).modelPausedUntil).toEqual({});
  });
});

describe('PoolStateService: a batch of outcomes', () => {
  it('ends in the same states and pause as its outcomes one batch each (keys disabled on the way count)', () => {
    // three of eight keys found invalid, then 429s on three others: 3 of the 5 keys left usable is enough to pause
    // the pool (at least 3 keys and half of the usable ones), 3 of 8 would not be; so "usable" must shrink as the
    // batch disables keys
    const invalid = (id: string) => fail(id, { kind: 'invalid', status: 400, reason: 'API key not valid' });
    const limited = (id: string) => fail(id, { kind: 'rate_limited', status: 429, reason: '429 RESOURCE_EXHAUSTED' });
    const outcomes: AttemptOutcome[] = [
      invalid('k0'),
      invalid('k1'),
      invalid('k2'),
      limited('k3'),
      limited('k4'),
      limited('k5'),
      fail('k6', { kind: 'success', status: 200, reason: undefined }),
    ];
    const together = pool(8);
    together.applyOutcomes(outcomes, T0);
    const apart = pool(8);
    for (const o of outcomes) apart.applyOutcomes([o], T0);
    // cooldown ends are jittered (Math.random), and so is which cooldowns the pause lifts: compared by the keys
    // disabled and whether the pool paused
    const view = (p: PoolStateService) => {
      const snap = p.snapshot(T0 + 1);
      return {
        paused: snap.pausedUntil > 0,
        disabled: snap.keys.filter((k) => k.status === 'disabled').map((k) => k.id),
      };
    };
    expect(view(together)).toEqual(view(apart));
    expect(view(together).paused).toBe(true);
    expect(view(together).disabled).toEqual(['k0', 'k1', 'k2']);
  });
});
