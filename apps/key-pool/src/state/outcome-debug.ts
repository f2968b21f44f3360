/**
 * key-pool's debug lines (LOG_LEVEL=debug): what each reported outcome did to its key. Key ids only, never a secret.
 */
import type { AttemptOutcome } from '@gg/contracts';
import { normalizeModel, ALL_MODELS, type KeyState } from '@gg/key-state';

const iso = (ms: number): string => new Date(ms).toISOString();

/** "outcome applied": the outcome as reported and the key's state it left (only what changed). */
export function outcomeLine(
  outcome: AttemptOutcome,
  before: KeyState,
  after: KeyState,
  throttled: boolean,
  gatewayId: string | undefined,
): object {
  const model = normalizeModel(outcome.model) ?? ALL_MODELS;
  const effect: Record<string, unknown> = {};
  if (after === before) effect.unchanged = true;
  if (after.cooldownUntil !== before.cooldownUntil && after.cooldownUntil > 0) {
    effect.cooldownUntil = iso(after.cooldownUntil);
    effect.backoffLevel = after.backoffLevel;
  }
  const cd = after.modelCooldowns[model];
  if (cd && cd !== before.modelCooldowns[model])
    effect.modelCooldown = { model, until: iso(cd.until), level: cd.level };
  if (after.disabled && !before.disabled) effect.disabled = after.disabledReason;
  if (after.consecutiveFailures !== before.consecutiveFailures) {
    effect.failures = {
      consecutive: after.consecutiveFailures,
      confirmed: after.confirmedFailures,
      users: after.failureUsers.length,
    };
  }
  return {
    keyId: outcome.keyId,
    model: outcome.model,
    outcome: outcome.kind,
    status: outcome.status,
    ...(outcome.count !== undefined && outcome.count !== 1 ? { count: outcome.count } : {}),
    ...(outcome.retryDelayMs !== undefined ? { retryDelayMs: outcome.retryDelayMs } : {}),
    ...(outcome.blame ? { blame: outcome.blame } : {}),
    ...(outcome.user ? { userId: outcome.user } : {}),
    ...(gatewayId ? { gatewayId } : {}),
    // a 429 while the whole pool pauses: the pause covers the key, it gets no cooldown of its own
    ...(throttled ? { throttled: true } : {}),
    effect,
  };
}
