/**
 * The one check every request path passes before anything else (authentication included): a path the upstream
 * could read differently from the gateway is refused. Plain code, no `new URL()`: it runs on every request.
 */

const SLASH = 47;
const DOT = 46;
const PERCENT = 37;
const BACKSLASH = 92;

/** Why a path was refused, for the 400 message. */
export const NON_CANONICAL_PATH =
  'The request path is not canonical: dot-segments ("." or ".."), encoded slashes or backslashes (%2F, %5C, \\) and ' +
  'empty segments are refused. Send the path as the API documents it.';

/**
 * The request target with leading doubled slashes folded (`//v1beta/…` → `/v1beta/…`; the official SDK sends
 * `//ws/…` when its base URL ends in `/`), or null when the path must be refused (400 INVALID_ARGUMENT):
 * - a dot-segment, `.` or `..`, plain or percent-encoded in any case (`%2e`, `.%2E`, …), also before a `:verb`;
 * - a percent-encoded slash or backslash (`%2F`, `%5C`) or a raw backslash;
 * - an empty segment inside the path (`/v1beta//models`, `models//x`), which servers that merge slashes read
 *   differently; a trailing slash is kept.
 * The query string is not looked at. A target that is not origin-form (`*`, `http://…`) is returned as is.
 */
export function canonicalUrl(url: string): string | null {
  if (url.charCodeAt(0) !== SLASH) return url;
  let from = 0;
  while (url.charCodeAt(from + 1) === SLASH) from++;
  const folded = from === 0 ? url : url.slice(from);
  const q = folded.indexOf('?');
  const end = q === -1 ? folded.length : q;
  let suspicious = false;
  for (let i = 0; i < end; i++) {
    const c = folded.charCodeAt(i);
    if (c === BACKSLASH) return null;
    if (c === PERCENT) suspicious = true;
    else if (c === SLASH) {
      const next = folded.charCodeAt(i + 1);
      if (next === SLASH && i + 1 < end) return null;
      if (next === DOT) suspicious = true;
    }
  }
  if (!suspicious) return folded;
  const path = folded.slice(0, end);
  if (/%(?:2f|5c)/i.test(path)) return null;
  const segments = path.split('/');
  for (let i = 1; i < segments.length; i++) {
    if (isDotSegment(segments[i])) return null;
  }
  return folded;
}

/** `.` or `..` once `%2e` is read as a dot, also when a `:verb` follows (`..:generateContent`). */
function isDotSegment(segment: string): boolean {
  if (segment === '') return false;
  let s = segment.includes('%') ? segment.replace(/%2e/gi, '.').replace(/%3a/gi, ':') : segment;
  const colon = s.indexOf(':');
  if (colon !== -1) s = s.slice(0, colon);
  return s === '.' || s === '..';
}
