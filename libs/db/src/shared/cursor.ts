/** The position after the last row of a log page: rows are ordered by (at desc, id desc). */
export interface LogCursor {
  at: string;
  id: string;
}

export function encodeCursor(c: LogCursor): string {
  return Buffer.from(JSON.stringify([c.at, c.id]), 'utf8').toString('base64url');
}

/** An unreadable cursor is treated as none (first page). */
export function decodeCursor(raw: string | undefined): LogCursor | null {
  if (!raw) return null;
  try {
    const v = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    if (!Array.isArray(v) || typeof v[0] !== 'string' || typeof v[1] !== 'string') return null;
    const ms = Date.parse(v[0]);
    if (Number.isNaN(ms)) return null;
    return { at: new Date(ms).toISOString(), id: v[1] };
  } catch {
    return null;
  }
}

export const DEFAULT_LOG_LIMIT = 50;
export const MAX_LOG_LIMIT = 500;

export function clampLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_LOG_LIMIT;
  return Math.min(MAX_LOG_LIMIT, Math.max(1, Math.floor(limit)));
}

/** Timestamps are stored in one form (toISOString) so that string order is time order. */
export function normalizeIso(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`invalid timestamp: ${iso}`);
  return new Date(ms).toISOString();
}
