/**
 * Who is to blame for a transient failure (5xx, network error, timeout, a stream that broke). A 5xx from Google is
 * not proof that a key is bad: the same request may fail on every key (its content, or the model overloaded), and
 * one user's requests must never take the pool away from the others.
 */
import type { AttemptBlame } from '@gg/contracts';
import type { KeyState } from './state';

/**
 * The blame of one request's transient failures once its attempts are over (the gateway knows this within the
 * request): another key then served it ('key': the failures were the keys'); no key served it and at least 2 keys
 * failed this way ('request': its content or the model; the keys are not penalised); else nothing to compare with.
 */
export function blameOfFailures(transientFailures: number, served: boolean): AttemptBlame | undefined {
  if (transientFailures === 0) return undefined;
  if (served) return 'key';
  return transientFailures >= 2 ? 'request' : undefined;
}

/** As outlier detection's max ejection percent: at most this share of the keys not disabled rest for failures at once. */
export const MAX_RESTING_SHARE = 0.5;

/**
 * Whether one more key may start a key-wide rest for transient failures: fewer than floor(share × keys not
 * disabled) rest that way now. A pool of one key never rests it for transient failures (there is nothing else).
 */
export function mayStartRest(states: Iterable<KeyState>, now: number, share = MAX_RESTING_SHARE): boolean {
  let usable = 0;
  let resting = 0;
  for (const s of states) {
    if (s.disabled) continue;
    usable++;
    if (s.cooldownUntil > now) resting++;
  }
  return resting < Math.floor(usable * share);
}
