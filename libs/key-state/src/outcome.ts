/** Builds the AttemptOutcome a gateway reports from a classification. */
import type { AttemptOutcome } from '@gg/contracts';
import type { UpstreamClassification } from './classify';
import { normalizeModel } from './model';
import { nextPacificMidnight } from './policy';

/**
 * The outcome of one attempt. A per-day 429 has its retry delay stretched to the next Pacific midnight, so the
 * key-pool (which only sees the outcome) rests the key for the day.
 */
export function toAttemptOutcome(
  keyId: string,
  model: string | null,
  status: number,
  c: UpstreamClassification,
  now: number,
): AttemptOutcome {
  const outcome: AttemptOutcome = {
    keyId,
    model: normalizeModel(model),
    kind: c.kind,
    status,
    reason: c.reason,
    at: now,
  };
  let delay = c.retryDelayMs;
  if (c.kind === 'rate_limited' && c.perDay) delay = Math.max(delay ?? 0, nextPacificMidnight(now) - now);
  if (delay !== undefined) outcome.retryDelayMs = delay;
  if (c.overloaded) outcome.overloaded = true;
  return outcome;
}
