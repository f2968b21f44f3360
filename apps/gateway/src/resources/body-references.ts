import { StringDecoder } from 'node:string_decoder';
import { ownedNameOf, type OwnedName } from './resource-names';

/**
 * A body can name a resource only in a string that starts `"file…` (fileUri, file_uri, fileName, fileData,
 * fileSearchStoreNames…), `"cached…` (cachedContent, cached_content), `"tunedModels…` or `"uri"`, spelled
 * plainly or with JSON escapes (`"file\u0055ri"` spells fileUri). Only the few bytes after each quote are read,
 * chunk by chunk as the body arrived (memchr-fast, base64 data has no quotes), so the common prompt, inline images
 * included, is never copied nor parsed: a 20 MB inline body is scanned in about a millisecond. Only a body with a
 * candidate is decoded and parsed, and nothing of that is kept once its names are read.
 */
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const MARKERS: readonly string[] = ['file', 'cached', 'tunedModels', 'uri"'];
const MARKER_CHARS = Math.max(...MARKERS.map((m) => m.length));
/** the bytes after a quote that can spell a marker: every character escaped (`\u0066`, 6 bytes) */
const LOOKAHEAD = MARKER_CHARS * 6;
const SIMPLE_ESCAPES: Readonly<Record<number, string>> = {
  0x22: '"',
  0x5c: '\\',
  0x2f: '/',
  0x62: '\b',
  0x66: '\f',
  0x6e: '\n',
  0x72: '\r',
  0x74: '\t',
};
const HEX4 = /^[0-9a-fA-F]{4}$/;
const MAX_DEPTH = 64;
/** When the body is not JSON the upstream will refuse it anyway; any name in it is still checked. */
const LOOSE = /\b(files|cachedContents|fileSearchStores|tunedModels|batches)\/([A-Za-z0-9][A-Za-z0-9_.-]*)/gi;

/** Owned resources a JSON request body refers to: file URIs and names, cached contents, stores, tuned models. */
export function bodyReferences(chunks: readonly Buffer[], upstreamHosts: readonly string[]): OwnedName[] {
  if (!mayRefer(chunks)) return [];
  // the parsed tree and the text are local to this call: both are garbage as soon as the names are read
  const json = parseOrNull(chunks);
  if (json === NOT_JSON) return looseReferences(chunks);
  const out: OwnedName[] = [];
  walk(json, null, 0, out, upstreamHosts);
  return out;
}

const NOT_JSON = Symbol('not JSON');

function parseOrNull(chunks: readonly Buffer[]): unknown {
  try {
    return JSON.parse(textOf(chunks));
  } catch {
    return NOT_JSON;
  }
}

function looseReferences(chunks: readonly Buffer[]): OwnedName[] {
  const loose: OwnedName[] = [];
  for (const m of textOf(chunks).matchAll(LOOSE)) {
    const owned = ownedNameOf(`${m[1]}/${m[2]}`);
    if (owned) loose.push(owned);
  }
  return loose;
}

/** The body as text, decoded chunk by chunk (a character split across chunks included) without a joined copy. */
function textOf(chunks: readonly Buffer[]): string {
  if (chunks.length === 1) return chunks[0].toString('utf8');
  const decoder = new StringDecoder('utf8');
  let text = '';
  for (const c of chunks) text += decoder.write(c);
  return text + decoder.end();
}

/** Whether the body may name a resource (see MARKERS): the bytes after every quote, across chunk seams. */
export function mayRefer(chunks: readonly Buffer[]): boolean {
  for (let c = 0; c < chunks.length; c++) {
    const chunk = chunks[c];
    for (let i = chunk.indexOf(QUOTE); i !== -1; i = chunk.indexOf(QUOTE, i + 1)) {
      const from = i + 1;
      // near a seam: the few bytes after the quote, gathered from the next chunks (a small copy)
      const hit =
        from + LOOKAHEAD <= chunk.length || c === chunks.length - 1
          ? startsWithMarker(chunk, from, Math.min(chunk.length, from + LOOKAHEAD))
          : startsWithMarker(window(chunks, c, from), 0, LOOKAHEAD);
      if (hit) return true;
    }
  }
  return false;
}

/** Up to LOOKAHEAD bytes from `from` in chunk `c` on. */
function window(chunks: readonly Buffer[], c: number, from: number): Buffer {
  const parts: Buffer[] = [chunks[c].subarray(from)];
  let n = parts[0].length;
  for (let k = c + 1; k < chunks.length && n < LOOKAHEAD; k++) {
    const part = chunks[k].subarray(0, LOOKAHEAD - n);
    parts.push(part);
    n += part.length;
  }
  return Buffer.concat(parts, n);
}

/** Whether the string that starts at `pos` spells a marker once its JSON escapes are read. */
function startsWithMarker(buf: Buffer, pos: number, end: number): boolean {
  const stop = Math.min(end, buf.length);
  // most strings start with none of f, c, t, u or an escape: decided on one byte
  const first = pos < stop ? buf[pos] : -1;
  if (first !== 0x66 && first !== 0x63 && first !== 0x74 && first !== 0x75 && first !== BACKSLASH) return false;
  let s = '';
  let p = pos;
  while (s.length < MARKER_CHARS && p < stop) {
    const b = buf[p];
    if (b === QUOTE) {
      s += '"';
      break;
    }
    if (b !== BACKSLASH) {
      s += String.fromCharCode(b);
      p++;
      continue;
    }
    if (p + 1 >= stop) break;
    const e = buf[p + 1];
    if (e === 0x75) {
      const hex = p + 6 <= stop ? buf.toString('latin1', p + 2, p + 6) : '';
      // an escape that cannot be read here: let the parser decide
      if (!HEX4.test(hex)) return true;
      s += String.fromCharCode(Number.parseInt(hex, 16));
      p += 6;
      continue;
    }
    const simple = SIMPLE_ESCAPES[e];
    if (simple === undefined) return true;
    s += simple;
    p += 2;
  }
  if (s.length === 0) return false;
  for (const m of MARKERS) if (s.startsWith(m)) return true;
  return false;
}

function walk(v: unknown, key: string | null, depth: number, out: OwnedName[], hosts: readonly string[]): void {
  if (depth > MAX_DEPTH || v === null) return;
  if (typeof v === 'string') {
    if (key !== null) referenceIn(key, v, out, hosts);
    return;
  }
  if (typeof v !== 'object') return;
  if (Array.isArray(v)) {
    for (const item of v) walk(item, key, depth + 1, out, hosts);
    return;
  }
  for (const [k, child] of Object.entries(v as Record<string, unknown>)) walk(child, k, depth + 1, out, hosts);
}

function referenceIn(key: string, value: string, out: OwnedName[], hosts: readonly string[]): void {
  switch (key) {
    case 'fileUri':
    case 'file_uri':
    case 'uri':
    case 'fileName':
    case 'file_name': {
      const f = fileRef(value, hosts, key === 'uri');
      if (f) out.push(f);
      return;
    }
    case 'cachedContent':
    case 'cached_content':
      out.push(
        ownedNameOf(tail(value, 'cachedContents')) ?? { name: `cachedContents/${value}`, kind: 'cachedContent' },
      );
      return;
    case 'fileSearchStoreNames':
    case 'file_search_store_names':
    case 'fileSearchStoreName':
    case 'file_search_store_name':
      out.push(
        ownedNameOf(tail(value, 'fileSearchStores')) ?? { name: `fileSearchStores/${value}`, kind: 'fileSearchStore' },
      );
      return;
    case 'model':
    case 'baseModel':
    case 'base_model': {
      const t = /(?:^|\/)tunedModels\/([^/:?#]+)/i.exec(value);
      if (t) out.push({ name: `tunedModels/${t[1]}`, kind: 'tunedModel' });
      return;
    }
    default:
      return;
  }
}

/** `files/abc`, or a URL of a file on the upstream's host (`https://generativelanguage.googleapis.com/v1beta/files/abc`). */
export function fileRef(value: string, hosts: readonly string[], onlyUrls = false): OwnedName | null {
  const v = value.trim();
  if (!onlyUrls && /^files\//i.test(v)) return ownedNameOf(v);
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(v)) return null;
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return null;
  }
  if (!hosts.includes(u.host.toLowerCase()) && !hosts.includes(u.hostname.toLowerCase())) return null;
  let path = u.pathname;
  try {
    path = decodeURIComponent(path);
  } catch {
    // keep it encoded
  }
  const m = /^\/(?:upload\/)?v1(?:beta|alpha)?\/(files\/[^/?#]+)/i.exec(path.replace(/\/{2,}/g, '/'));
  return m ? ownedNameOf(m[1]) : null;
}

/** `…/cachedContents/x` → `cachedContents/x` (names may come with a project prefix). */
function tail(value: string, collection: string): string {
  const i = value.toLowerCase().lastIndexOf(`${collection.toLowerCase()}/`);
  return i === -1 ? value : value.slice(i);
}
