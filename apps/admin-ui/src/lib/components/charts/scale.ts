/** Small helpers of the SVG charts: "nice" axis ticks and time labels. */

/** Ticks from 0 to a round maximum at or above `max` (at least 1), about `count` of them. */
export function niceTicks(max: number, count = 4): number[] {
  if (!(max > 0)) return [0, 1];
  const rough = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= rough) ?? rough;
  const ticks: number[] = [];
  for (let v = 0; v < max + step * 0.5 && ticks.length < count + 2; v += step) ticks.push(Math.round(v * 1e6) / 1e6);
  if (ticks[ticks.length - 1] < max) ticks.push(ticks[ticks.length - 1] + step);
  return ticks;
}

const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dayHour = new Intl.DateTimeFormat(undefined, { weekday: 'short', hour: '2-digit' });
const full = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });

/** The label of a bucket start on the x axis: a clock time, or the weekday for buckets of hours. */
export function axisTime(iso: string, bucketSeconds: number): string {
  const d = new Date(iso);
  return bucketSeconds >= 3600 ? dayHour.format(d) : clock.format(d);
}

/** A bucket as a range, for tooltips and the data table: "Mar 3, 10:30 – 11:00". */
export function bucketRange(iso: string, bucketSeconds: number): string {
  const start = new Date(iso);
  const end = new Date(start.getTime() + bucketSeconds * 1000);
  return `${full.format(start)} – ${clock.format(end)}`;
}

/** Indexes of about `count` evenly spaced labels over `length` points. */
export function labelIndexes(length: number, count: number): number[] {
  if (length <= 0) return [];
  const step = Math.max(1, Math.ceil(length / count));
  const out: number[] = [];
  for (let i = length - 1; i >= 0; i -= step) out.unshift(i);
  return out;
}
