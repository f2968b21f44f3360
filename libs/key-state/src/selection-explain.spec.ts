import type { SnapshotKey } from '@gg/contracts';
import { explainPick, MAX_LISTED, skipReason } from './selection-explain';
import { KeySelector } from './selection';

const T0 = 1_000_000;

function k(id: string, extra: Partial<SnapshotKey> = {}): SnapshotKey {
  return { id, secret: `s-${id}`, status: 'active', cooldownUntil: 0, modelCooldowns: {}, ...extra };
}

describe('explainPick', () => {
  const keys = [
    k('tried'),
    k('off', { status: 'disabled' }),
    k('resting', { cooldownUntil: T0 + 5000 }),
    k('cooled', { modelCooldowns: { m: T0 + 7000 } }),
    k('busy'),
    k('free'),
  ];
  const inFlight = (id: string): number => (id === 'busy' ? 2 : 0);

  it('gives each key that cannot serve the model its reason, in the selector’s order, and counts the usable', () => {
    const why = explainPick(keys, 'models/m', T0, inFlight, 2, new Set(['tried']));
    expect(why).toEqual({
      candidates: 6,
      usable: 1,
      skipped: [
        { keyId: 'tried', why: 'tried' },
        { keyId: 'off', why: 'disabled' },
        { keyId: 'resting', why: 'cooldown', until: new Date(T0 + 5000).toISOString() },
        { keyId: 'cooled', why: 'model cooldown', until: new Date(T0 + 7000).toISOString() },
        { keyId: 'busy', why: 'at cap', inFlight: 2 },
      ],
      skippedBy: { tried: 1, disabled: 1, cooldown: 1, 'model cooldown': 1, 'at cap': 1 },
    });
    // the selector agrees: the only usable key is the one it picks
    expect(new KeySelector('least-busy', 2).pick(keys, 'm', T0, inFlight, new Set(['tried']))?.id).toBe('free');
  });

  it('a cooldown on another model, a cooldown that ran out and no cap do not skip a key', () => {
    const key = k('a', { cooldownUntil: T0 - 1, modelCooldowns: { other: T0 + 5000 } });
    expect(skipReason(key, 'm', T0, 99, 0)).toBeNull();
  });

  it('the later of a key-wide cooldown and its model cooldown is the one given', () => {
    const key = k('a', { cooldownUntil: T0 + 1000, modelCooldowns: { m: T0 + 9000 } });
    expect(skipReason(key, 'm', T0, 0, 0)).toMatchObject({
      why: 'model cooldown',
      until: new Date(T0 + 9000).toISOString(),
    });
    expect(skipReason(key, null, T0, 0, 0)).toMatchObject({
      why: 'cooldown',
      until: new Date(T0 + 1000).toISOString(),
    });
  });

  it('lists at most MAX_LISTED skipped keys but counts them all', () => {
    const many = Array.from({ length: MAX_LISTED + 5 }, (_, i) => k(`d${i}`, { status: 'disabled' }));
    const why = explainPick(many, 'm', T0, () => 0, 0);
    expect(why.skipped).toHaveLength(MAX_LISTED);
    expect(why.skippedBy).toEqual({ disabled: MAX_LISTED + 5 });
    expect(why.usable).toBe(0);
  });
});
