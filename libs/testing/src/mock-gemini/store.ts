/**
 * Files, upload sessions and cached contents, each owned by the API key that created it (Google: the key's project).
 * Any other key gets 403 PERMISSION_DENIED, as Google answers (docs/gemini-wire.md §2.7 "Key affinity").
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';

import type { StoredBatch } from './batches';
import type { StoredSearchStore } from './file-search-stores';
import type { Json } from './context';
import { cacheDenied, fileDenied, type GoogleError } from './errors';

export interface StoredFile {
  owner: string;
  file: Json;
  /** the bytes, kept for small uploads (a batch reads its JSONL input) and for files the mock generates */
  bytes?: Buffer;
  /** made by the mock (a batch's results): the only files `:download` serves, as Google does */
  generated?: boolean;
}

/** Uploads up to this size keep their bytes (batch input files); larger ones are only hashed. */
export const KEPT_BYTES_CAP = 1024 * 1024;

export interface UploadSession {
  owner: string;
  version: string;
  displayName?: string;
  mimeType: string;
  received: number;
  hash: Hash;
  /** opened on `{store}:uploadToFileSearchStore`: the store id, and the metadata of the start */
  searchStore?: { id: string; meta: Json };
  /** the chunks so far while their total stays within KEPT_BYTES_CAP; undefined once it does not */
  chunks?: Buffer[];
}

export interface StoredCache {
  owner: string;
  cache: Json;
  tokens: number;
}

const FILE_REF = /(?:^|\/)files\/([A-Za-z0-9_-]+)/;
const CACHE_REF = /(?:^|\/)cachedContents\/([A-Za-z0-9_-]+)/;

export function newId(): string {
  return BigInt('0x' + randomBytes(8).toString('hex'))
    .toString(36)
    .padStart(12, '0')
    .slice(0, 12);
}

export class Store {
  readonly files = new Map<string, StoredFile>();
  readonly sessions = new Map<string, UploadSession>();
  readonly caches = new Map<string, StoredCache>();
  readonly batches = new Map<string, StoredBatch>();
  readonly searchStores = new Map<string, StoredSearchStore>();

  reset(): void {
    this.searchStores.clear();
    this.batches.clear();
    this.files.clear();
    this.sessions.clear();
    this.caches.clear();
  }

  startSession(owner: string, version: string, mimeType: string, displayName?: string): string {
    const id = `ABgVH${randomBytes(24).toString('base64url')}`;
    this.sessions.set(id, {
      owner,
      version,
      displayName,
      mimeType,
      received: 0,
      hash: createHash('sha256'),
      chunks: [],
    });
    return id;
  }

  /** Create an ACTIVE file (docs/gemini-wire.md §2.7 "File resource"). */
  addFile(
    owner: string,
    version: string,
    mimeType: string,
    size: number,
    sha256Hex: string,
    displayName?: string,
    bytes?: Buffer,
  ): StoredFile {
    const id = newId();
    const now = Date.now();
    const file: Json = { name: `files/${id}` };
    if (displayName) file['displayName'] = displayName;
    Object.assign(file, {
      mimeType,
      sizeBytes: String(size),
      createTime: new Date(now).toISOString(),
      updateTime: new Date(now).toISOString(),
      expirationTime: new Date(now + 48 * 3600_000).toISOString(),
      sha256Hash: Buffer.from(sha256Hex).toString('base64'),
      uri: `https://generativelanguage.googleapis.com/${version}/files/${id}`,
      state: 'ACTIVE',
      source: 'UPLOADED',
    });
    const stored: StoredFile = { owner, file };
    if (bytes && bytes.length <= KEPT_BYTES_CAP) stored.bytes = bytes;
    this.files.set(id, stored);
    return stored;
  }

  fileFor(id: string, key: string): StoredFile | GoogleError {
    const f = this.files.get(id);
    return f && f.owner === key ? f : fileDenied(id);
  }

  cacheFor(id: string, key: string): StoredCache | GoogleError {
    const c = this.caches.get(id);
    return c && c.owner === key ? c : cacheDenied();
  }

  /** 403 when a generate/count/cache body references a file or cached content that this key does not own. */
  checkRefs(body: Json, key: string): { error?: GoogleError; cachedTokens: number } {
    for (const c of Array.isArray(body['contents']) ? body['contents'] : []) {
      for (const p of Array.isArray(c?.['parts']) ? c['parts'] : []) {
        const fd = p?.['fileData'] ?? p?.['file_data'];
        const uri = fd?.['fileUri'] ?? fd?.['file_uri'];
        const m = typeof uri === 'string' ? FILE_REF.exec(uri) : null;
        if (m && this.files.get(m[1])?.owner !== key) return { error: fileDenied(m[1]), cachedTokens: 0 };
      }
    }
    const ref = body['cachedContent'] ?? body['cached_content'];
    if (typeof ref !== 'string') return { cachedTokens: 0 };
    const m = CACHE_REF.exec(ref);
    const cache = m ? this.caches.get(m[1]) : undefined;
    if (!cache || cache.owner !== key) return { error: cacheDenied(), cachedTokens: 0 };
    return { cachedTokens: cache.tokens };
  }
}

/** `{items, nextPageToken}` paging with an opaque token (base64url of the next index). */
export function page<T>(
  items: T[],
  field: string,
  pageSize: string | undefined,
  token: string | undefined,
  def: number,
  max: number,
): Json {
  const size = Math.min(max, Number(pageSize) > 0 ? Math.floor(Number(pageSize)) : def);
  const start = token ? Number(Buffer.from(token, 'base64url').toString('utf8')) || 0 : 0;
  const slice = items.slice(start, start + size);
  const out: Json = {};
  if (slice.length) out[field] = slice;
  if (start + size < items.length) out['nextPageToken'] = Buffer.from(String(start + size)).toString('base64url');
  return out;
}
