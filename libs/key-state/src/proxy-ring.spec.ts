import { randomUUID } from 'node:crypto';
import { highestScore, rendezvousScore, routeProxy, type RoutableProxy } from './proxy-ring';

const T0 = 1_000_000;
const proxy = (id: string, restingUntil = 0): RoutableProxy => ({ id, restingUntil });
const keys = Array.from({ length: 3000 }, () => randomUUID());

function assignment(proxies: RoutableProxy[], bound: Map<string, string> = new Map()): Map<string, string> {
  return new Map(keys.map((k) => [k, routeProxy(k, bound.get(k), proxies, T0)?.proxy.id ?? '-']));
}

describe('routeProxy (rendezvous hashing)', () => {
  const three = ['p1', 'p2', 'p3'].map((id) => proxy(id));

  it('spreads keys about evenly', () => {
    const counts = new Map<string, number>();
    for (const id of assignment(three).values()) counts.set(id, (counts.get(id) ?? 0) + 1);
    for (const p of three) expect(counts.get(p.id)).toBeGreaterThan(keys.length / 3 - 200);
  });

  it('adding a proxy moves about 1/n of the keys, each to the new one, and none that are bound', () => {
    const bound = new Map(keys.slice(0, 300).map((k, i) => [k, three[i % 3].id]));
    const before = assignment(three, bound);
    const after = assignment([...three, proxy('p4')], bound);
    const moved = keys.filter((k) => before.get(k) !== after.get(k));
    expect(moved.length).toBeGreaterThan(keys.length / 4 - 200);
    expect(moved.length).toBeLessThan(keys.length / 4 + 200);
    for (const k of moved) expect(after.get(k)).toBe('p4');
    for (const k of bound.keys()) expect(after.get(k)).toBe(bound.get(k));
  });

  it('removing or resting a proxy moves only its own keys', () => {
    const before = assignment(three);
    for (const after of [
      assignment([three[0], three[2]]),
      assignment([three[0], proxy('p2', T0 + 30_000), three[2]]),
    ]) {
      for (const k of keys) {
        if (before.get(k) === 'p2') expect(after.get(k)).not.toBe('p2');
        else expect(after.get(k)).toBe(before.get(k));
      }
    }
  });

  it('honours an explicit binding while its proxy is usable, and hashes while it rests', () => {
    const k = keys[0];
    const other = three.find((p) => p.id !== highestScore(k, three)?.id)!;
    expect(routeProxy(k, other.id, three, T0)).toEqual({ proxy: other, explicit: true });
    const resting = three.map((p) => (p.id === other.id ? proxy(p.id, T0 + 1) : p));
    expect(routeProxy(k, other.id, resting, T0)).toEqual({ proxy: highestScore(k, three), explicit: false });
    // a rest that has ended is no rest; a binding to a proxy deleted since is ignored
    expect(routeProxy(k, other.id, resting, T0 + 1)?.explicit).toBe(true);
    expect(routeProxy(k, 'gone', three, T0)).toEqual({ proxy: highestScore(k, three), explicit: false });
  });

  it('skips proxies the request failed on; uses resting ones when nothing else is left; null when all failed', () => {
    const k = keys[1];
    const first = routeProxy(k, undefined, three, T0)!.proxy.id;
    const second = routeProxy(k, undefined, three, T0, new Set([first]))!.proxy.id;
    expect(second).not.toBe(first);
    const allResting = three.map((p) => proxy(p.id, T0 + 5_000));
    expect(routeProxy(k, undefined, allResting, T0)?.proxy.id).toBe(first);
    expect(routeProxy(k, undefined, three, T0, new Set(['p1', 'p2', 'p3']))).toBeNull();
    expect(routeProxy(k, undefined, [], T0)).toBeNull();
  });

  it('scores are pinned (a change would move keys between proxies on upgrade) and order matters', () => {
    expect(rendezvousScore('key-a', 'proxy-1')).toBe(3191601458);
    expect(rendezvousScore('key-a', 'proxy-2')).toBe(1319354415);
    expect(new Set([rendezvousScore('a', 'b'), rendezvousScore('ab', ''), rendezvousScore('', 'ab')]).size).toBe(3);
  });
});
