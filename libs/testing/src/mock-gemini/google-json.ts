/** Google's two JSON styles: 2-space pretty print (unary bodies) and one line with ': ' and bare ',' (SSE). */

export function pretty(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

/** `{"a": 1,"b": [{"c": "d"}]}`: a space after every colon, none after commas, as Google writes SSE events. */
export function googleLine(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i ? ',' : '') + googleLine(value[i]);
    return out + ']';
  }
  let out = '{';
  let first = true;
  for (const k in value as Record<string, unknown>) {
    const v = (value as Record<string, unknown>)[k];
    if (v === undefined) continue;
    out += (first ? '' : ',') + JSON.stringify(k) + ': ' + googleLine(v);
    first = false;
  }
  return out + '}';
}

/** Words of a text (whitespace separated). */
export function countWords(text: string): number {
  let n = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const space = c === 32 || c === 10 || c === 13 || c === 9;
    if (!space && !inWord) n++;
    inWord = !space;
  }
  return n;
}

/** FNV-1a 32-bit hash: deterministic ids and vectors. */
export function fnv1a(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** A Google-looking opaque id of `length` characters, deterministic in `seed`. */
export function opaqueId(seed: string, length: number): string {
  let h = fnv1a(seed);
  let out = '';
  for (let i = 0; i < length; i++) {
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
    h = (h + 0x9e3779b9 + i) >>> 0;
    out += ID_ALPHABET[h % ID_ALPHABET.length];
  }
  return out;
}
