/** Reading and showing the optional limits of a user key (rate per minute, allowed models). */
import { RATE_LIMIT_MAX, rateLimitField, type AuthKey } from '$contracts';

/** "gemini-2.5-flash, gemini-2.5-*" or one per line → a list; empty → null (any model). */
export function parseModels(text: string): string[] | null {
  const models = text
    .split(/[\s,]+/)
    .map((m) => m.trim())
    .filter(Boolean);
  return models.length ? [...new Set(models)] : null;
}

/** "" → null (no limit); otherwise a whole number from 1 to 1,000,000, or an error message. */
export function parseRate(text: string | number | null | undefined): { value: number | null; error?: string } {
  if (text === null || text === undefined || String(text).trim() === '') return { value: null };
  const n = Number(text);
  if (!rateLimitField.safeParse(n).success) {
    return {
      value: null,
      error: `The rate limit is a whole number from 1 to ${RATE_LIMIT_MAX.toLocaleString('en')} requests per minute.`,
    };
  }
  return { value: n };
}

/** The key stops working at the end of the chosen day, local time. */
export function endOfDayIso(date: string): string | null {
  return date ? new Date(`${date}T23:59:59`).toISOString() : null;
}

/** yyyy-mm-dd of an ISO time in local time, for a date input. */
export function localDate(iso: string | null): string {
  if (!iso) return '';
  const d = new Date(iso);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

export function todayLocal(): string {
  return localDate(new Date().toISOString());
}

/** "60/min · gemini-2.5-flash" or '' when the key has no limits. */
export function limitsSummary(key: AuthKey): string {
  const parts: string[] = [];
  if (key.rateLimitPerMinute) parts.push(`${key.rateLimitPerMinute.toLocaleString()}/min`);
  if (key.allowedModels?.length) parts.push(key.allowedModels.join(', '));
  return parts.join(' · ');
}
