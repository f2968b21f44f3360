/**
 * A gateway applies each outcome to its local copy of the snapshot at once, so that its next pick avoids a key
 * that was just rate limited or found invalid, without waiting for key-pool's next snapshot. Only cooldowns and
 * disabling: counters and key-wide backoff are key-pool's (it will push them in its next snapshot).
 */
import type { AttemptOutcome, SnapshotKey } from '@gg/contracts';
import { ALL_MODELS, normalizeModel } from './model';
import { isPerDayReason, rateLimitUntil, type KeyPolicy } from './policy';

function hasActiveCooldown(key: SnapshotKey, now: number): boolean {
  if (key.cooldownUntil > now) return true;
  for (const model in key.modelCooldowns) {
    if (key.modelCooldowns[model] > now) return true;
  }
  return false;
}

/** Returns a new SnapshotKey when the outcome changes it, else the same object. */
export function applyOutcomeToSnapshot(
  key: SnapshotKey,
  outcome: AttemptOutcome,
  now: number,
  policy: KeyPolicy,
  random: () => number = Math.random,
): SnapshotKey {
  if (outcome.kind === 'invalid') {
    return key.status === 'disabled' ? key : { ...key, status: 'disabled' };
  }
  if (outcome.kind !== 'rate_limited') return key;
  const model = normalizeModel(outcome.model) ?? ALL_MODELS;
  // the gateway doesn't know the level: first-step backoff unless upstream gave a delay; key-pool refines it
  const until = rateLimitUntil(now, 1, outcome.retryDelayMs, isPerDayReason(outcome.reason), policy, random);
  const current = key.modelCooldowns[model] ?? 0;
  if (current >= until) return key;
  const next: SnapshotKey = { ...key, modelCooldowns: { ...key.modelCooldowns, [model]: until } };
  if (next.status !== 'disabled') next.status = hasActiveCooldown(next, now) ? 'cooldown' : 'active';
  return next;
}
