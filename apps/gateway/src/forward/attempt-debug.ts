/**
 * The debug lines of a request's attempts (LOG_LEVEL=debug): which key and why, how each answer was classified and
 * what that does to the key. Built only when debug is on; pool keys by id only, never their secret.
 */
import type { AttemptBlame, SnapshotKey } from '@gg/contracts';
import type { PickExplanation, UpstreamClassification } from '@gg/key-state';
import type { Exchange } from './exchange';

/** "pool choice": the key chosen for the next attempt (or none), the candidates and the keys skipped with why. */
export function poolChoiceLine(
  ex: Exchange,
  pinned: string | null,
  chosen: SnapshotKey | null,
  why: PickExplanation & { mode: string },
): object {
  const affinity = pinned !== null && chosen?.id === pinned;
  return {
    requestId: ex.requestId,
    attempt: ex.attempts + 1,
    model: ex.model,
    ...why,
    ...(pinned !== null ? { pinned } : {}),
    mode: affinity ? 'pinned' : why.mode,
    chosen: chosen?.id ?? null,
  };
}

/** What the gateway does with the key after an answer of this kind (key-pool applies it; see its debug lines). */
function actionOf(c: UpstreamClassification): string {
  switch (c.kind) {
    case 'success':
      return 'served';
    case 'rate_limited':
      if (c.perDay) return 'key rests until the next Pacific midnight; next key';
      return c.retryDelayMs !== undefined
        ? 'key cools down on this model for retryDelay; next key'
        : 'key cools down on this model (backoff); next key';
    case 'invalid':
      return 'key disabled; next key';
    case 'transient':
      return c.overloaded
        ? 'held: the model may rest, blamed once the attempts end; next key'
        : 'held: blamed once the attempts end; next key';
    case 'affinity':
      return "another key's resource: answered to the client";
    default:
      return 'the request, not the key: answered to the client';
  }
}

/** "attempt classified": one upstream answer (or failure) of the request, its meaning and its effect. */
export function attemptLine(ex: Exchange, keyId: string, c: UpstreamClassification, status: number): object {
  return {
    requestId: ex.requestId,
    attempt: ex.attempts,
    keyId,
    model: ex.model,
    status,
    outcome: c.kind,
    reason: c.reason,
    ...(c.retryDelayMs !== undefined ? { retryDelayMs: c.retryDelayMs } : {}),
    ...(c.perDay ? { perDay: true } : {}),
    ...(c.overloaded ? { overloaded: true } : {}),
    blamedOn: blameOf(c),
    action: actionOf(c),
  };
}

/** Who an answer of this kind is held against; transient failures are decided at the end ("attempts blamed"). */
function blameOf(c: UpstreamClassification): string {
  switch (c.kind) {
    case 'success':
      return 'none';
    case 'rate_limited':
    case 'invalid':
      return 'key';
    case 'transient':
      return c.overloaded ? 'model (pending)' : 'pending';
    default:
      return 'request';
  }
}

/** "attempts blamed": the request's held transient failures, reported with their blame once its attempts ended. */
export function blameLine(ex: Exchange, count: number, served: boolean, blame: AttemptBlame | undefined): object {
  return {
    requestId: ex.requestId,
    failures: count,
    served,
    // 'key': another key served it; 'request': every key failed this way; none: nothing to compare with (weighed
    // once per user by key-pool)
    blame: blame ?? 'unconfirmed',
  };
}
