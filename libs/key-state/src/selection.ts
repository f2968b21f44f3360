/**
 * Picking a pool key for one request, on the gateway's data plane. `pick` runs on every request: one or two
 * passes over the keys, no sorting, no copies, no allocation.
 */
import type { SnapshotKey } from '@gg/contracts';
import { ALL_MODELS, normalizeModel } from './model';

export type SelectionMode = 'least-busy' | 'round-robin' | 'random';

/** availableAt for a model name already normalized. */
function readyAt(key: SnapshotKey, model: string | null, now: number): number {
  if (key.status === 'disabled') return Infinity;
  let at = key.cooldownUntil;
  const all = key.modelCooldowns[ALL_MODELS];
  if (all !== undefined && all > at) at = all;
  if (model !== null) {
    const own = key.modelCooldowns[model];
    if (own !== undefined && own > at) at = own;
  }
  return at > now ? at : now;
}

/** The time from which the key may serve `model` (null: a request that names no model); Infinity if disabled. */
export function availableAt(key: SnapshotKey, model: string | null, now: number): number {
  return readyAt(key, normalizeModel(model), now);
}

/** Not disabled, and neither the key nor the model on it is resting. `status: 'cooldown'` alone doesn't count:
 * the snapshot's status can be stale, the times are what matter. */
export function isUsable(key: SnapshotKey, model: string | null, now: number): boolean {
  return availableAt(key, model, now) <= now;
}

/** The earliest time any of the keys may serve `model` (for Retry-After when all rest); Infinity if none ever. */
export function earliestAvailableAt(keys: readonly SnapshotKey[], model: string | null, now: number): number {
  const m = normalizeModel(model);
  let best = Infinity;
  for (let i = 0; i < keys.length; i++) {
    const at = readyAt(keys[i], m, now);
    if (at < best) best = at;
  }
  return best;
}

export class KeySelector {
  /** where the next scan starts: equal keys are used in turn */
  private cursor = 0;

  constructor(
    private readonly mode: SelectionMode,
    /** the most requests in flight on one key; 0 = unlimited */
    private readonly maxConcurrency = 0,
    private readonly random: () => number = Math.random,
  ) {}

  /**
   * A usable key for `model`, or null: never an excluded, disabled, resting (for that model) or saturated key.
   * least-busy: fewest in flight, ties in turn; round-robin: the next eligible key in turn; random: uniform.
   */
  pick(
    keys: readonly SnapshotKey[],
    model: string | null,
    now: number,
    inFlight: (keyId: string) => number,
    exclude?: ReadonlySet<string>,
  ): SnapshotKey | null {
    const n = keys.length;
    if (n === 0) return null;
    const m = normalizeModel(model);
    if (this.mode === 'random') return this.pickRandom(keys, m, now, inFlight, exclude);
    const start = this.cursor % n;
    let best = -1;
    let bestLoad = Infinity;
    for (let step = 0; step < n; step++) {
      const i = (start + step) % n;
      const key = keys[i];
      if (!this.eligible(key, m, now, exclude)) continue;
      const load = inFlight(key.id);
      if (this.maxConcurrency > 0 && load >= this.maxConcurrency) continue;
      if (this.mode === 'round-robin') {
        best = i;
        break;
      }
      if (load < bestLoad) {
        best = i;
        bestLoad = load;
        if (load <= 0) break;
      }
    }
    if (best < 0) return null;
    this.cursor = (best + 1) % n;
    return keys[best];
  }

  private eligible(key: SnapshotKey, model: string | null, now: number, exclude?: ReadonlySet<string>): boolean {
    if (exclude !== undefined && exclude.size > 0 && exclude.has(key.id)) return false;
    return readyAt(key, model, now) <= now;
  }

  private pickRandom(
    keys: readonly SnapshotKey[],
    model: string | null,
    now: number,
    inFlight: (keyId: string) => number,
    exclude?: ReadonlySet<string>,
  ): SnapshotKey | null {
    let count = 0;
    for (let i = 0; i < keys.length; i++) {
      if (this.fits(keys[i], model, now, inFlight, exclude)) count++;
    }
    if (count === 0) return null;
    let target = Math.min(count - 1, Math.floor(this.random() * count));
    for (let i = 0; i < keys.length; i++) {
      if (!this.fits(keys[i], model, now, inFlight, exclude)) continue;
      if (target === 0) return keys[i];
      target--;
    }
    return null;
  }

  private fits(
    key: SnapshotKey,
    model: string | null,
    now: number,
    inFlight: (keyId: string) => number,
    exclude?: ReadonlySet<string>,
  ): boolean {
    if (!this.eligible(key, model, now, exclude)) return false;
    return this.maxConcurrency <= 0 || inFlight(key.id) < this.maxConcurrency;
  }
}
