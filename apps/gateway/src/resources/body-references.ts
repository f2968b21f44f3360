import { ownedNameOf, type OwnedName } from './resource-names';

/**
 * A body can name a resource only in a string that starts `"file…` (fileUri, file_uri, fileName, fileData,
 * fileSearchStoreNames…), `"cached…` (cachedContent, cached_content), `"tunedModels…` or `"uri"`, or through a JSON
 * escape (`"file\u0055ri"` spells fileUri). Checking the bytes after each quote (memchr-fast, and base64 data has
 * no quotes) keeps the common prompt, inline images included, off the JSON parser: a 10 MB inline body is scanned
 * in about a millisecond.
 */
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const AFTER_QUOTE: readonly Buffer[] = ['file', 'cached', 'tunedModels', 'uri"'].map((m) => Buffer.from(m));
const MAX_DEPTH = 64;
/** When the body is not JSON the upstream will refuse it anyway; any name in it is still checked. */
const LOOSE = /\b(files|cachedContents|fileSearchStores|tunedModels|batches)\/([A-Za-z0-9][A-Za-z0-9_.-]*)/gi;

/** Owned resources a JSON request body refers to: file URIs and names, cached contents, stores, tuned models. */
export function bodyReferences(chunks: Buffer[], upstreamHosts: readonly string[]): OwnedName[] {
  const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
  if (!mayRefer(body)) return [];
  const text = body.toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    const loose: OwnedName[] = [];
    for (const m of text.matchAll(LOOSE)) {
      const owned = ownedNameOf(`${m[1]}/${m[2]}`);
      if (owned) loose.push(owned);
    }
    return loose;
  }
  const out: OwnedName[] = [];
  walk(json, null, 0, out, upstreamHosts);
  return out;
}

/** Whether the body may name a resource (see AFTER_QUOTE). */
function mayRefer(body: Buffer): boolean {
  if (body.indexOf(BACKSLASH) !== -1) return true;
  for (let i = body.indexOf(QUOTE); i !== -1; i = body.indexOf(QUOTE, i + 1)) {
    const next = body[i + 1];
    for (const m of AFTER_QUOTE) {
      if (next === m[0] && body.compare(m, 0, m.length, i + 1, Math.min(body.length, i + 1 + m.length)) === 0) return true;
    }
  }
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
      out.push(ownedNameOf(tail(value, 'cachedContents')) ?? { name: `cachedContents/${value}`, kind: 'cachedContent' });
      return;
    case 'fileSearchStoreNames':
    case 'file_search_store_names':
    case 'fileSearchStoreName':
    case 'file_search_store_name':
      out.push(ownedNameOf(tail(value, 'fileSearchStores')) ?? { name: `fileSearchStores/${value}`, kind: 'fileSearchStore' });
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
