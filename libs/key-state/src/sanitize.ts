/** Makes an upstream message safe and short enough to store, log and show: never a key, never a page of HTML. */

const MAX_REASON = 160;

const GOOGLE_KEY = /AIza[0-9A-Za-z_-]{10,}/g;
const CONSUMER_KEY = /api_key:[^\s'",;)]*/gi;
const QUERY_KEY = /([?&](?:key|api_key)=)[^&\s'"]+/gi;

export function redactSecrets(text: string): string {
  return text
    .replace(CONSUMER_KEY, 'api_key:[redacted]')
    .replace(GOOGLE_KEY, '[redacted]')
    .replace(QUERY_KEY, '$1[redacted]');
}

/** Strips tags, collapses whitespace, redacts keys and truncates. */
export function shortReason(text: string, max = MAX_REASON): string {
  let out = text;
  if (out.includes('<')) {
    out = out
      .replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ')
      .replace(/<[^>]*>/g, ' ')
      .replace(/&nbsp;/g, ' ');
  }
  out = redactSecrets(out.replace(/\s+/g, ' ').trim());
  return out.length > max ? `${out.slice(0, max - 1)}…` : out;
}
