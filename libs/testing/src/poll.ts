/** Options of {@link poll}. */
export interface PollOptions {
  /** Pause between tries (50 ms). */
  intervalMs?: number;
  /** Treat a try that throws as "not yet" instead of failing at once (false); the last error is reported. */
  retryErrors?: boolean;
}

/**
 * The one poll-until helper of the tests: calls `fn` until `ok(value)` holds and returns that value, or throws
 * "timed out after N ms waiting for <what>" with the last value (or error) once the deadline passes. `fn` runs
 * at least once, even with a deadline of 0.
 */
export async function poll<T>(
  fn: () => Promise<T> | T,
  ok: (value: T) => boolean,
  timeoutMs = 5000,
  what = 'condition',
  { intervalMs = 50, retryErrors = false }: PollOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let last: string;
    try {
      const value = await fn();
      if (ok(value)) return value;
      last = `last value: ${JSON.stringify(value)}`;
    } catch (e) {
      if (!retryErrors) throw e;
      last = `last error: ${e instanceof Error ? e.message : String(e)}`;
    }
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; ${last}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** {@link poll} for a yes/no check; a check that throws counts as "not yet". */
export async function waitFor(
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what: string,
  intervalMs = 50,
): Promise<void> {
  await poll(check, (yes) => yes, timeoutMs, what, { intervalMs, retryErrors: true });
}
