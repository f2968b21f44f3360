/**
 * Which upstream proxy a pool key's traffic goes through: its explicit binding, or rendezvous (highest random
 * weight) hashing over the proxies that do not rest. Every proxy gets a score per key from a hash of both ids, and
 * the key takes the proxy with the highest score. A key keeps its proxy when another is added (it moves only when
 * the new one outscores its own: about 1/n of the keys) and when one it does not use is removed or rests; only the
 * keys of a removed or resting proxy move, each to its next-highest score. key-pool (the admin's view, key checks)
 * and every gateway compute the same answer from the same snapshot, with nothing stored per key.
 */

/** What routing needs of a proxy. */
export interface RoutableProxy {
  id: string;
  /** epoch ms until which it rests, or 0 */
  restingUntil: number;
}

export interface ProxyRoute<P extends RoutableProxy> {
  proxy: P;
  /** the key's explicit binding was honoured (false: chosen by hashing, also when the bound proxy rests) */
  explicit: boolean;
}

/**
 * The proxy for `keyId`: the bound one when it is usable; else the best-scoring usable one. Usable: not resting at
 * `now` and not in `exclude` (proxies this request already failed on). When every proxy not excluded rests, the
 * resting ones are used all the same (traffic never goes around the list); null when every proxy is excluded or
 * there is none.
 */
export function routeProxy<P extends RoutableProxy>(
  keyId: string,
  boundId: string | undefined,
  proxies: readonly P[],
  now: number,
  exclude?: ReadonlySet<string>,
): ProxyRoute<P> | null {
  if (proxies.length === 0) return null;
  const open = (p: P): boolean => !exclude?.has(p.id);
  const awake = (p: P): boolean => open(p) && p.restingUntil <= now;
  if (boundId !== undefined) {
    const bound = proxies.find((p) => p.id === boundId);
    if (bound && awake(bound)) return { proxy: bound, explicit: true };
  }
  const best = highestScore(keyId, proxies, awake) ?? highestScore(keyId, proxies, open);
  return best ? { proxy: best, explicit: false } : null;
}

/** The proxy with the highest rendezvous score for the key among those `eligible` accepts, or null. */
export function highestScore<P extends { id: string }>(
  keyId: string,
  proxies: readonly P[],
  eligible: (p: P) => boolean = () => true,
): P | null {
  let best: P | null = null;
  let bestScore = -1;
  for (const p of proxies) {
    if (!eligible(p)) continue;
    const s = rendezvousScore(keyId, p.id);
    // ties (1 in 2^32) go to the smaller id, so that every process agrees
    if (s > bestScore || (s === bestScore && best !== null && p.id < best.id)) {
      best = p;
      bestScore = s;
    }
  }
  return best;
}

/**
 * A 32-bit score of the pair: FNV-1a over both ids (a separator between them), then MurmurHash3's finaliser so that
 * ids that differ in one character give unrelated scores. Stable across processes and versions: changing it would
 * move keys between proxies.
 */
export function rendezvousScore(keyId: string, proxyId: string): number {
  let h = 0x811c9dc5;
  const mix = (s: string): void => {
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
  };
  mix(keyId);
  mix('\u0000');
  mix(proxyId);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
