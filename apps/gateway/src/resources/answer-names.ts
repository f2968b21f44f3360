import type { ResourceKind } from '@gg/contracts';
import { fileRef } from './body-references';
import { DEFAULT_TTL_MS, ownedNameOf } from './resource-names';

/** A resource an upstream answer names, with what the answer says about it. */
export interface NamedResource {
  name: string;
  kind: ResourceKind;
  sizeBytes: number | null;
  /** epoch ms; 0 = kept until deleted */
  expiresAt: number;
}

/** Fields whose string value names a resource the answer may have created. */
const NAME_FIELDS = new Set([
  'name',
  'responsesFile',
  'responses_file',
  'tunedModel',
  'tuned_model',
  'uri',
  'fileName',
  'documentName',
  'file',
]);
const MAX_DEPTH = 32;
const LOOSE = /"(?:name|responsesFile|tunedModel|fileName)"\s*:\s*"([^"]+)"/g;

/**
 * Every owned resource named in an answer (`{"file": {"name": "files/abc", "expirationTime": …}}`, a batch
 * operation and its result file, a tuned model's creating operation), with size and expiry where the object that
 * names it says. A truncated or non-JSON answer is read loosely: the names only, default expiry.
 */
export function namedInAnswer(text: string, now: number, hosts: readonly string[]): NamedResource[] {
  const found = new Map<string, NamedResource>();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    for (const m of text.matchAll(LOOSE)) add(found, m[1], null, now, hosts);
    return [...found.values()];
  }
  visit(json, 0, found, now, hosts);
  return [...found.values()];
}

function visit(
  v: unknown,
  depth: number,
  found: Map<string, NamedResource>,
  now: number,
  hosts: readonly string[],
): void {
  if (depth > MAX_DEPTH || v === null || typeof v !== 'object') return;
  if (Array.isArray(v)) {
    for (const item of v) visit(item, depth + 1, found, now, hosts);
    return;
  }
  const obj = v as Record<string, unknown>;
  for (const [k, child] of Object.entries(obj)) {
    if (typeof child === 'string' && NAME_FIELDS.has(k)) add(found, child, obj, now, hosts);
    else visit(child, depth + 1, found, now, hosts);
  }
}

function add(
  found: Map<string, NamedResource>,
  value: string,
  holder: Record<string, unknown> | null,
  now: number,
  hosts: readonly string[],
): void {
  const owned = ownedNameOf(value) ?? fileRef(value, hosts, true);
  if (!owned || found.has(owned.name)) return;
  // the size and expiry of the object are about it only when its own `name` is the resource itself
  const own = holder !== null && holder['name'] === value;
  const size = own ? Number(holder['sizeBytes'] ?? holder['size_bytes']) : NaN;
  found.set(owned.name, {
    name: owned.name,
    kind: owned.kind,
    sizeBytes: Number.isFinite(size) && size >= 0 ? size : null,
    expiresAt: (own ? expiryOf(holder) : null) ?? defaultExpiry(owned.kind, now),
  });
}

/** `expirationTime` (files) or `expireTime` (cached contents), in epoch ms. */
export function expiryOf(obj: Record<string, unknown>): number | null {
  const raw = obj['expirationTime'] ?? obj['expireTime'] ?? obj['expiration_time'] ?? obj['expire_time'];
  const t = typeof raw === 'string' ? Date.parse(raw) : NaN;
  return Number.isFinite(t) ? t : null;
}

export function defaultExpiry(kind: ResourceKind, now: number): number {
  const ttl = DEFAULT_TTL_MS[kind];
  return ttl === 0 ? 0 : now + ttl;
}
