import type { Stats, StatsPoint, StatsWindow } from '@gg/contracts';

/** Bucket layout of each dashboard window: buckets aligned to multiples of their size, the last holds `now`. */
export const WINDOW_BUCKETS: Record<StatsWindow, { bucketSeconds: number; count: number }> = {
  '1h': { bucketSeconds: 60, count: 60 },
  '24h': { bucketSeconds: 1800, count: 48 },
  '7d': { bucketSeconds: 7200, count: 84 },
};

export const TOP_KEYS = 5;

export interface WindowLayout {
  window: StatsWindow;
  bucketSeconds: number;
  /** start of each bucket, epoch ms, oldest first */
  starts: number[];
  fromMs: number;
  /** exclusive */
  toMs: number;
}

export function windowLayout(window: StatsWindow, now: Date): WindowLayout {
  const spec = WINDOW_BUCKETS[window];
  if (!spec) throw new Error(`unknown stats window: ${window}`);
  const size = spec.bucketSeconds * 1000;
  const last = Math.floor(now.getTime() / size) * size;
  const fromMs = last - (spec.count - 1) * size;
  const starts = Array.from({ length: spec.count }, (_, i) => fromMs + i * size);
  return {
    window,
    bucketSeconds: spec.bucketSeconds,
    starts,
    fromMs,
    toMs: last + size,
  };
}

export function emptySeries(layout: WindowLayout): StatsPoint[] {
  return layout.starts.map((s) => ({
    t: new Date(s).toISOString(),
    requests: 0,
    errors: 0,
    promptTokens: 0,
    outputTokens: 0,
  }));
}

/** Order and cut the per-key request counts the same way in both drivers. */
export function topKeys(counts: Map<string, number>, names: Map<string, string>): Stats['topKeys'] {
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, TOP_KEYS)
    .map(([authKeyId, requests]) => ({
      authKeyId,
      name: names.get(authKeyId) ?? '',
      requests,
    }));
}
