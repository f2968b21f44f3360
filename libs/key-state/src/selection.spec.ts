import type { SnapshotKey } from '@gg/contracts';
import { availableAt, earliestAvailableAt, isUsable, KeySelector } from './selection';

const T0 = 1_000_000;

function k(id: string, extra: Partial<SnapshotKey> = {}): SnapshotKey {
  return { id, secret: `s-${id}`, status: 'active', cooldownUntil: 0, modelCooldowns: {}, ...extra };
}

const idle = () => 0;

function picks(
  sel: KeySelector,
  keys: SnapshotKey[],
  count: number,
  inFlight: (id: string) => number = idle,
  model: string | null = 'm',
): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(sel.pick(keys, model, T0, inFlight)?.id ?? '-');
  return out;
}

describe('isUsable / availableAt', () => {
  const resting = k('a', { status: 'cooldown', cooldownUntil: 0, modelCooldowns: { m: T0 + 5000 } });

  it('a model rest blocks only that model (whatever the models/ prefix)', () => {
    expect(isUsable(resting, 'm', T0)).toBe(false);
    expect(isUsable(resting, 'models/m', T0)).toBe(false);
    expect(isUsable(resting, 'other', T0)).toBe(true);
    expect(isUsable(resting, null, T0)).toBe(true);
    expect(isUsable(resting, 'm', T0 + 5000)).toBe(true);
    expect(availableAt(resting, 'm', T0)).toBe(T0 + 5000);
    expect(availableAt(resting, 'other', T0)).toBe(T0);
  });

  it('a key-wide or all-models rest blocks every model; disabled is never available', () => {
    expect(isUsable(k('a', { cooldownUntil: T0 + 1 }), 'x', T0)).toBe(false);
    expect(isUsable(k('a', { modelCooldowns: { '*': T0 + 1 } }), 'x', T0)).toBe(false);
    expect(isUsable(k('a', { modelCooldowns: { '*': T0 + 1 } }), null, T0)).toBe(false);
    expect(availableAt(k('a', { status: 'disabled' }), 'x', T0)).toBe(Infinity);
  });

  it('goes by the times, not by a stale status', () => {
    expect(isUsable(k('a', { status: 'cooldown', cooldownUntil: T0 - 1 }), 'm', T0)).toBe(true);
  });

  it('earliestAvailableAt gives the soonest end of rest', () => {
    const keys = [
      k('a', { cooldownUntil: T0 + 9000 }),
      k('b', { modelCooldowns: { m: T0 + 3000 } }),
      k('c', { status: 'disabled' }),
    ];
    expect(earliestAvailableAt(keys, 'm', T0)).toBe(T0 + 3000);
    expect(earliestAvailableAt([k('c', { status: 'disabled' })], 'm', T0)).toBe(Infinity);
    expect(earliestAvailableAt([], 'm', T0)).toBe(Infinity);
  });
});

describe('KeySelector', () => {
  const keys = [k('a'), k('b'), k('c')];

  describe('least-busy', () => {
    it('takes equal keys in turn', () => {
      expect(picks(new KeySelector('least-busy'), keys, 7)).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'a']);
    });

    it('takes the key with the fewest requests in flight', () => {
      const load: Record<string, number> = { a: 3, b: 1, c: 2 };
      expect(picks(new KeySelector('least-busy'), keys, 2, (id) => load[id])).toEqual(['b', 'b']);
    });

    it('spreads load evenly when each pick adds a request in flight', () => {
      const load: Record<string, number> = { a: 0, b: 0, c: 0 };
      const sel = new KeySelector('least-busy');
      for (let i = 0; i < 30; i++) load[sel.pick(keys, 'm', T0, (id) => load[id])!.id]++;
      expect(load).toEqual({ a: 10, b: 10, c: 10 });
    });

    it('breaks ties among the least busy in turn, skipping busier keys', () => {
      const load: Record<string, number> = { a: 1, b: 0, c: 0, d: 5 };
      const four = [...keys, k('d')];
      expect(picks(new KeySelector('least-busy'), four, 4, (id) => load[id])).toEqual(['b', 'c', 'b', 'c']);
    });
  });

  it('round-robin ignores load', () => {
    const load: Record<string, number> = { a: 100, b: 0, c: 0 };
    expect(picks(new KeySelector('round-robin'), keys, 4, (id) => load[id])).toEqual(['a', 'b', 'c', 'a']);
  });

  it('random is uniform over the usable keys, with an injectable source', () => {
    const mixed = [k('a'), k('x', { status: 'disabled' }), k('b'), k('c')];
    const at = (r: number) => new KeySelector('random', 0, () => r).pick(mixed, 'm', T0, idle)?.id;
    expect([at(0), at(0.34), at(0.67), at(0.9999)]).toEqual(['a', 'b', 'c', 'c']);
    const counts: Record<string, number> = {};
    const sel = new KeySelector('random');
    for (let i = 0; i < 3000; i++) {
      const id = sel.pick(mixed, 'm', T0, idle)!.id;
      counts[id] = (counts[id] ?? 0) + 1;
    }
    expect(Object.keys(counts).sort()).toEqual(['a', 'b', 'c']);
    for (const n of Object.values(counts)) expect(n).toBeGreaterThan(800);
  });

  describe.each(['least-busy', 'round-robin', 'random'] as const)('%s never returns an unusable key', (mode) => {
    const pool = [
      k('disabled', { status: 'disabled' }),
      k('resting', { cooldownUntil: T0 + 1000 }),
      k('model-resting', { modelCooldowns: { m: T0 + 1000 } }),
      k('excluded'),
      k('saturated'),
      k('ok'),
    ];
    const load = (id: string) => (id === 'saturated' ? 2 : 0);

    it('excluded, disabled, resting for the model, saturated', () => {
      const sel = new KeySelector(mode, 2);
      for (let i = 0; i < 20; i++) expect(sel.pick(pool, 'm', T0, load, new Set(['excluded']))?.id).toBe('ok');
    });

    it('null when none is left', () => {
      const sel = new KeySelector(mode, 2);
      expect(sel.pick(pool, 'm', T0, load, new Set(['excluded', 'ok']))).toBeNull();
      expect(sel.pick([], 'm', T0, load)).toBeNull();
    });

    it('a key resting for another model is fine', () => {
      const sel = new KeySelector(mode);
      const only = [k('model-resting', { modelCooldowns: { other: T0 + 1000 } })];
      expect(sel.pick(only, 'm', T0, idle)?.id).toBe('model-resting');
    });

    it('max concurrency 0 means unlimited', () => {
      expect(new KeySelector(mode, 0).pick([k('x')], 'm', T0, () => 1_000_000)?.id).toBe('x');
      expect(new KeySelector(mode, 3).pick([k('x')], 'm', T0, () => 3)).toBeNull();
    });
  });

  it('copes with the key list changing size between picks', () => {
    const sel = new KeySelector('round-robin');
    expect(picks(sel, [k('a'), k('b'), k('c'), k('d')], 3)).toEqual(['a', 'b', 'c']);
    expect(picks(sel, [k('a'), k('b')], 3)).toEqual(['b', 'a', 'b']);
  });
});
