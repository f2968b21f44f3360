/** Durations as Google writes them ("47s", "3.2s", "500ms") and the Retry-After header (seconds or HTTP date). */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h)?\s*$/i;

/** Parses a protobuf Duration string (or a bare number of seconds) into ms; undefined when it is not one. */
export function parseDurationMs(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value * 1000) : undefined;
  if (typeof value !== 'string') return undefined;
  const m = DURATION.exec(value);
  if (!m) return undefined;
  const unit = (m[2] ?? 's').toLowerCase();
  return Math.round(parseFloat(m[1]) * UNIT_MS[unit]);
}

/**
 * Parses Retry-After: delta-seconds, or an HTTP date taken relative to `nowMs` (the response's Date header or the
 * caller's clock). A date with no reference time is ignored, never compared with a clock read here.
 */
export function parseRetryAfterMs(value: string | undefined, nowMs: number | undefined): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(parseFloat(trimmed) * 1000);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at) || nowMs === undefined) return undefined;
  return Math.max(0, at - nowMs);
}

/** Reads one header whatever its case; the first value of a repeated header. */
export function headerValue(
  headers: Record<string, string | string[] | undefined> | undefined,
  name: string,
): string | undefined {
  if (!headers) return undefined;
  let v = headers[name];
  if (v === undefined) {
    const lower = name.toLowerCase();
    for (const k of Object.keys(headers)) {
      if (k.toLowerCase() === lower) {
        v = headers[k];
        break;
      }
    }
  }
  return Array.isArray(v) ? v[0] : v;
}
