/**
 * Why a pick went the way it did, for the gateway's debug log only (never on the hot path at `info`): the same
 * eligibility rules as KeySelector, one reason per key that could not be chosen.
 */
import type { SnapshotKey } from '@gg/contracts';
import { ALL_MODELS, normalizeModel } from './model';

/** tried: an earlier attempt of this request; cooldown: the whole key rests; model cooldown: the key rests for this
 * model (a 429 on it); at cap: KEY_MAX_CONCURRENCY requests in flight on it */
export type SkipReason = 'tried' | 'disabled' | 'cooldown' | 'model cooldown' | 'at cap';

export interface SkippedKey {
  keyId: string;
  why: SkipReason;
  /** ISO time the key may serve the model again (cooldowns) */
  until?: string;
  /** requests in flight on the key (at cap) */
  inFlight?: number;
}

export interface PickExplanation {
  /** keys in the pool copy */
  candidates: number;
  /** keys that could have been chosen */
  usable: number;
  /** the first MAX_LISTED keys that could not, with why */
  skipped: SkippedKey[];
  /** how many could not, by reason (all of them, listed or not) */
  skippedBy: Partial<Record<SkipReason, number>>;
}

/** Past this many, skipped keys are only counted: a pool of hundreds must not make one line of hundreds. */
export const MAX_LISTED = 20;

/** Why `key` cannot serve `model` now (null: it can), with KeySelector's rules and order. */
export function skipReason(
  key: SnapshotKey,
  model: string | null,
  now: number,
  inFlight: number,
  maxConcurrency: number,
  exclude?: ReadonlySet<string>,
): SkippedKey | null {
  if (exclude !== undefined && exclude.has(key.id)) return { keyId: key.id, why: 'tried' };
  if (key.status === 'disabled') return { keyId: key.id, why: 'disabled' };
  const m = normalizeModel(model);
  const keyWide = Math.max(key.cooldownUntil, key.modelCooldowns[ALL_MODELS] ?? 0);
  const own = m === null ? 0 : (key.modelCooldowns[m] ?? 0);
  if (keyWide > now && keyWide >= own)
    return { keyId: key.id, why: 'cooldown', until: new Date(keyWide).toISOString() };
  if (own > now) return { keyId: key.id, why: 'model cooldown', until: new Date(own).toISOString() };
  if (maxConcurrency > 0 && inFlight >= maxConcurrency) return { keyId: key.id, why: 'at cap', inFlight };
  return null;
}

/** Every key of the pool copy judged for one pick of `model`. */
export function explainPick(
  keys: readonly SnapshotKey[],
  model: string | null,
  now: number,
  inFlight: (keyId: string) => number,
  maxConcurrency: number,
  exclude?: ReadonlySet<string>,
): PickExplanation {
  const skipped: SkippedKey[] = [];
  const skippedBy: Partial<Record<SkipReason, number>> = {};
  let usable = 0;
  for (const key of keys) {
    const s = skipReason(key, model, now, inFlight(key.id), maxConcurrency, exclude);
    if (s === null) {
      usable++;
      continue;
    }
    skippedBy[s.why] = (skippedBy[s.why] ?? 0) + 1;
    if (skipped.length < MAX_LISTED) skipped.push(s);
  }
  return { candidates: keys.length, usable, skipped, skippedBy };
}
