/** Parsing of the admin's "add keys" input: nothing here talks to Google or to storage. */

/** What a Gemini API key may look like (AIza… keys are 39 characters; others are accepted in this range). */
export const POOL_KEY_PATTERN = /^[A-Za-z0-9_-]{16,256}$/;

export interface ParsedKeys {
  /** distinct valid keys, in input order */
  keys: string[];
  /** valid keys repeated within the input */
  duplicates: number;
  invalid: number;
}

/** Splits on newlines, commas and whitespace, drops empties, validates, and dedups within the batch. */
export function parseKeyInput(input: string | string[]): ParsedKeys {
  const pieces = (Array.isArray(input) ? input : [input]).flatMap((s) => String(s).split(/[\s,]+/));
  const seen = new Set<string>();
  const out: ParsedKeys = { keys: [], duplicates: 0, invalid: 0 };
  for (const raw of pieces) {
    const key = raw.trim();
    if (!key) continue;
    if (!POOL_KEY_PATTERN.test(key)) out.invalid++;
    else if (seen.has(key)) out.duplicates++;
    else {
      seen.add(key);
      out.keys.push(key);
    }
  }
  return out;
}
