/** Views of a key's state: the snapshot entry the gateways select from, and the admin API's PoolKey. */
import type { ModelCooldown, PoolKey, SnapshotKey } from '@gg/contracts';
import { statusOf, type KeyState } from './state';

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** The key as gateways hold it: only cooldowns still running at `now`. */
export function toSnapshotKey(id: string, secret: string, state: KeyState, now: number): SnapshotKey {
  const modelCooldowns: Record<string, number> = {};
  for (const model in state.modelCooldowns) {
    const until = state.modelCooldowns[model].until;
    if (until > now) modelCooldowns[model] = until;
  }
  return {
    id,
    secret,
    status: statusOf(state, now),
    cooldownUntil: state.cooldownUntil > now ? state.cooldownUntil : 0,
    modelCooldowns,
  };
}

/** The running model cooldowns, soonest first (model '*' means every model). */
export function activeCooldowns(state: KeyState, now: number): ModelCooldown[] {
  const out: { model: string; until: number; reason: string }[] = [];
  for (const model in state.modelCooldowns) {
    const cd = state.modelCooldowns[model];
    if (cd.until > now) out.push({ model, until: cd.until, reason: cd.reason });
  }
  out.sort((a, b) => a.until - b.until || a.model.localeCompare(b.model));
  return out.map((c) => ({ model: c.model, until: iso(c.until), reason: c.reason }));
}

/**
 * The admin API's PoolKey. `inUse` is the number of requests in flight on the key, summed over every gateway. A
 * disabled key shows the reason it was disabled for as `lastError`, whatever failed on it since (a health check).
 */
export function toPoolKeyView(id: string, masked: string, state: KeyState, now: number, inUse = 0): PoolKey {
  return {
    id,
    masked,
    status: statusOf(state, now),
    inUse,
    isInUse: inUse > 0,
    failureCount: state.consecutiveFailures,
    cooldownUntil: state.cooldownUntil > now ? iso(state.cooldownUntil) : null,
    cooldowns: activeCooldowns(state, now),
    lastUsedAt: state.lastUsedAt === null ? null : iso(state.lastUsedAt),
    lastError: state.disabled && state.disabledReason ? state.disabledReason : state.lastError,
    totalRequests: state.totalRequests,
  };
}
