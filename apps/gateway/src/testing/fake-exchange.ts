import type { Exchange } from '../forward/exchange';

/**
 * The fields of an Exchange that the answer readers and responders touch, for unit tests: a fresh request that has
 * seen no byte, no deadline and no abort yet. `over` replaces or adds fields (the response double, a deadline hit).
 */
export function fakeExchange(res: unknown, over: Partial<Record<keyof Exchange, unknown>> = {}): Exchange {
  return {
    res,
    status: 0,
    ttfbMs: null,
    startedAt: Date.now(),
    abort: { signal: { aborted: false } },
    deadlineHit: false,
    promptTokens: 0,
    outputTokens: 0,
    ...over,
  } as unknown as Exchange;
}
