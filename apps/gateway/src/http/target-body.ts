import type { IncomingHttpHeaders } from 'node:http';
import type { BodyModels } from './target';

/**
 * The models a request body names at the route's fields, in order, or null when the body cannot be read for them
 * the way the upstream reads it (not JSON, compressed, or another content type): the model is then unknown.
 * An empty body names none. Every occurrence counts, duplicate keys included, and keys are read as protobuf's
 * JSON reader reads them (`base_model` is `baseModel`, escapes resolved), so no spelling hides a model.
 * Only called for routes that name models in their body (never on the generateContent path).
 */
export function modelsInBody(
  headers: IncomingHttpHeaders,
  chunks: readonly Buffer[],
  spec: BodyModels,
): string[] | null {
  const type = headers['content-type'];
  if (type !== undefined && !/json/i.test(type)) return null;
  const encoding = headers['content-encoding'];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') return null;
  const text = (chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)).toString('utf8');
  if (text.trim() === '') return [];
  try {
    JSON.parse(text);
  } catch {
    return null;
  }
  return jsonStringsAt(text, spec.fields);
}

/**
 * String values at the given field paths of a valid JSON text (`requests[].model`), every occurrence. Walks only
 * down the paths asked for and skips everything else without building it.
 */
export function jsonStringsAt(text: string, fields: readonly string[]): string[] {
  const prefixes = new Set<string>(['']);
  for (const f of fields) {
    for (let k = 0; k < f.length; k++) if (f[k] === '.' || f.startsWith('[]', k)) prefixes.add(f.slice(0, k));
  }
  const out: string[] = [];
  new Walker(text, new Set(fields), prefixes, out).value('');
  return out;
}

class Walker {
  private i = 0;

  constructor(
    private readonly s: string,
    private readonly wanted: ReadonlySet<string>,
    private readonly prefixes: ReadonlySet<string>,
    private readonly out: string[],
  ) {}

  /** The value at the cursor; `path` is null once nothing below is wanted. */
  value(path: string | null): void {
    this.ws();
    const c = this.s[this.i];
    if (c === '{' || c === '[') {
      if (path === null || !this.prefixes.has(path)) return this.skipComposite();
      return c === '{' ? this.object(path) : this.array(path);
    }
    if (c === '"') {
      const end = this.stringEnd(this.i);
      if (path !== null && this.wanted.has(path)) this.out.push(this.decode(this.i, end));
      this.i = end + 1;
      return;
    }
    while (this.i < this.s.length && !',]} \t\r\n'.includes(this.s[this.i])) this.i++;
  }

  private object(path: string): void {
    this.i++;
    for (;;) {
      this.ws();
      if (this.s[this.i] === '}') {
        this.i++;
        return;
      }
      const end = this.stringEnd(this.i);
      const key = protoKey(this.decode(this.i, end));
      this.i = end + 1;
      this.ws();
      this.i++; // ':'
      const child = path === '' ? key : `${path}.${key}`;
      this.value(this.wanted.has(child) || this.prefixes.has(child) ? child : null);
      this.ws();
      if (this.s[this.i] === ',') this.i++;
    }
  }

  private array(path: string): void {
    this.i++;
    const child = `${path}[]`;
    const next = this.wanted.has(child) || this.prefixes.has(child) ? child : null;
    for (;;) {
      this.ws();
      if (this.s[this.i] === ']') {
        this.i++;
        return;
      }
      this.value(next);
      this.ws();
      if (this.s[this.i] === ',') this.i++;
    }
  }

  private skipComposite(): void {
    let depth = 0;
    const s = this.s;
    for (let i = this.i; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c === 34) i = this.stringEnd(i);
      else if (c === 123 || c === 91) depth++;
      else if (c === 125 || c === 93) {
        if (--depth === 0) {
          this.i = i + 1;
          return;
        }
      }
    }
    this.i = s.length;
  }

  /** Index of the closing quote of the string opening at `start`. */
  private stringEnd(start: number): number {
    let j = start + 1;
    for (;;) {
      const k = this.s.indexOf('"', j);
      if (k === -1) return this.s.length;
      let backslashes = 0;
      while (this.s.charCodeAt(k - 1 - backslashes) === 92) backslashes++;
      if (backslashes % 2 === 0) return k;
      j = k + 1;
    }
  }

  private decode(start: number, end: number): string {
    const raw = this.s.slice(start, end + 1);
    return raw.includes('\\') ? (JSON.parse(raw) as string) : raw.slice(1, -1);
  }

  private ws(): void {
    const s = this.s;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c !== 32 && c !== 10 && c !== 13 && c !== 9) return;
      this.i++;
    }
  }
}

/** A key as protobuf's JSON reader resolves it: the proto name `generate_content_request` is `generateContentRequest`. */
function protoKey(key: string): string {
  return key.includes('_') ? key.replace(/_([a-zA-Z0-9])/g, (_m, c: string) => c.toUpperCase()) : key;
}
