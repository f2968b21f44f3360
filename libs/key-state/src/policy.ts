import type { SettingsValues } from '@gg/contracts';

/** Backoff arithmetic of the pool: exponential, capped, jittered; and the per-day quota reset time. */

export interface KeyPolicy {
  /** consecutive transient failures (5xx, network, timeout) before a key-wide cooldown */
  maxFailures: number;
  /** first key-wide cooldown after maxFailures transient failures; doubles each time */
  baseBackoffMs: number;
  maxBackoffMs: number;
  /** first per-model cooldown after a 429 that carries no retry delay; doubles each time */
  rateLimitBaseMs: number;
  rateLimitMaxMs: number;
  /** relative jitter of computed backoffs: 0.1 = ±10% */
  jitter: number;
}

export function defaultKeyPolicy(maxFailures = 3): KeyPolicy {
  return {
    maxFailures,
    baseBackoffMs: 30_000,
    maxBackoffMs: 30 * 60_000,
    rateLimitBaseMs: 30_000,
    rateLimitMaxMs: 30 * 60_000,
    jitter: 0.1,
  };
}

/**
 * The policy the runtime settings say: their backoff base and cap serve both the key-wide rest after failures and
 * the per-model rest after a 429 that gave no retry delay.
 */
export function keyPolicyFrom(
  s: Pick<SettingsValues, 'keyMaxFailures' | 'backoffBaseSeconds' | 'backoffMaxSeconds'>,
): KeyPolicy {
  const base = s.backoffBaseSeconds * 1000;
  const max = Math.max(base, s.backoffMaxSeconds * 1000);
  return {
    ...defaultKeyPolicy(s.keyMaxFailures),
    baseBackoffMs: base,
    maxBackoffMs: max,
    rateLimitBaseMs: base,
    rateLimitMaxMs: max,
  };
}

/** Explicit delays from upstream are trusted up to this (a per-day quota resets within 24 h). */
export const MAX_EXPLICIT_DELAY_MS = 25 * 3_600_000;

/**
 * Google resets per-day quotas at midnight America/Los_Angeles: UTC-8 (PST) in winter, UTC-7 (PDT) from the second
 * Sunday of March to the first Sunday of November. The zone's rules come from the runtime's time-zone data (Intl).
 */
const PACIFIC = new Intl.DateTimeFormat('en-US', {
  timeZone: 'America/Los_Angeles',
  hourCycle: 'h23',
  year: 'numeric',
  month: 'numeric',
  day: 'numeric',
  hour: 'numeric',
  minute: 'numeric',
  second: 'numeric',
});

/** The wall-clock time in Los Angeles at `t`, read as if it were UTC (epoch ms, whole seconds). */
function pacificWallClock(t: number): number {
  const p: Record<string, number> = {};
  for (const part of PACIFIC.formatToParts(t)) if (part.type !== 'literal') p[part.type] = Number(part.value);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
}

/** Epoch ms of the next midnight in America/Los_Angeles (PST or PDT, as the date has it), strictly after `now`. */
export function nextPacificMidnight(now: number): number {
  const wall = pacificWallClock(now);
  const d = new Date(wall);
  // midnight of the next Pacific day, as wall-clock time
  const target = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
  // the zone's offset at that instant (wall - utc); midnight is never in a DST gap (the changes happen at 02:00)
  let at = target - (wall - Math.floor(now / 1000) * 1000);
  at = target - (pacificWallClock(at) - at);
  return at;
}

/**
 * Backoff for the `level`-th consecutive time (level >= 1): base * 2^(level-1), capped at max, then jittered by
 * ±jitter and capped again (so it never exceeds max). `random` returns [0, 1).
 */
export function backoffMs(level: number, baseMs: number, maxMs: number, jitter: number, random: () => number): number {
  const exponent = Math.min(Math.max(level, 1) - 1, 40);
  const raw = Math.min(maxMs, baseMs * 2 ** exponent);
  const factor = 1 + jitter * (2 * random() - 1);
  return Math.max(0, Math.min(maxMs, Math.round(raw * factor)));
}

/** Clamps an upstream retry delay to something sane; undefined/0/negative/NaN mean "no delay given". */
export function explicitDelay(retryDelayMs: number | undefined): number | undefined {
  if (retryDelayMs === undefined || !Number.isFinite(retryDelayMs) || retryDelayMs <= 0) return undefined;
  return Math.min(retryDelayMs, MAX_EXPLICIT_DELAY_MS);
}

const PER_DAY = /PerDay/i;

/** The reason of a 429 on a per-day quota names the quotaId (see classifyUpstream). */
export function isPerDayReason(reason: string | undefined): boolean {
  return !!reason && PER_DAY.test(reason);
}

/**
 * When a key rests for a model after a 429: the upstream delay if any, else the backoff of this level; for a
 * per-day quota at least until the next Pacific midnight.
 */
export function rateLimitUntil(
  now: number,
  level: number,
  retryDelayMs: number | undefined,
  perDay: boolean,
  policy: KeyPolicy,
  random: () => number,
): number {
  const explicit = explicitDelay(retryDelayMs);
  const delay = explicit ?? backoffMs(level, policy.rateLimitBaseMs, policy.rateLimitMaxMs, policy.jitter, random);
  const until = now + delay;
  return perDay ? Math.max(until, nextPacificMidnight(now)) : until;
}
