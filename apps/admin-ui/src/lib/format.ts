/** Display formats. Times are shown in the browser's time zone; the full ISO time is in the `title`. */

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
const time = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const integer = new Intl.NumberFormat();
const compact = new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

export function formatDateTime(iso: string | null | undefined, fallback = '—'): string {
  if (!iso) return fallback;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? fallback : dateTime.format(d);
}

const shortDateTime = new Intl.DateTimeFormat(undefined, {
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
});

/** The time for an event of today, the day and time for an older one. */
export function formatDate(iso: string | null | undefined, fallback = '—'): string {
  if (!iso) return fallback;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? fallback : dateOnly.format(d);
}

export function formatLogTime(iso: string, now = new Date()): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toDateString() === now.toDateString() ? time.format(d) : shortDateTime.format(d);
}

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
  ['second', 1000],
];

/** "3 minutes ago", "in 20 seconds" */
export function formatRelative(iso: string | null | undefined, now = Date.now(), fallback = 'never'): string {
  if (!iso) return fallback;
  const diff = new Date(iso).getTime() - now;
  if (Number.isNaN(diff)) return fallback;
  for (const [unit, ms] of UNITS) {
    if (Math.abs(diff) >= ms || unit === 'second') return relative.format(Math.round(diff / ms), unit);
  }
  return fallback;
}

export function formatNumber(n: number | null | undefined): string {
  return n === null || n === undefined ? '—' : integer.format(n);
}

/** 12.3K, 4.5M: for big token totals; the exact value goes in a `title`. */
export function formatCompact(n: number): string {
  return n < 10_000 ? integer.format(n) : compact.format(n);
}

export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/** True when `iso` is a time in the future. */
export function isFuture(iso: string | null | undefined, now = Date.now()): boolean {
  return !!iso && new Date(iso).getTime() > now;
}
