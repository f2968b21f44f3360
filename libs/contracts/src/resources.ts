/**
 * Resources created upstream through the gateway (files, cached contents, batches, …) and who owns them. The
 * gateway writes the records to Redis; key-pool reads them for the admin. Both agree on the layout below.
 */

/** What the gateway records an owner for. Documents and operations of a file search store or a tuned model
 * belong to their parent (`fileSearchStores/s/documents/d` is owned by whoever owns `fileSearchStores/s`). */
export type ResourceKind =
  'file' | 'uploadSession' | 'cachedContent' | 'batch' | 'fileSearchStore' | 'tunedModel' | 'operation';

/** The kinds a user lists and an admin sees (upload sessions are short-lived plumbing, not held data). */
export const LISTED_RESOURCE_KINDS: readonly ResourceKind[] = [
  'file',
  'cachedContent',
  'batch',
  'fileSearchStore',
  'tunedModel',
  'operation',
];

/** One resource, as the admin sees it: ownership and size, never content or display names. */
export interface ResourceRecord {
  /** Google's name: `files/abc`, `cachedContents/xyz`, `batches/123`, … */
  name: string;
  kind: ResourceKind;
  userId: string;
  poolKeyId: string;
  /** bytes, when the creating answer said (files) */
  sizeBytes: number | null;
  createdAt: string;
  /** when Google drops it (and the gateway its record); null: kept until deleted */
  expiresAt: string | null;
}

export interface ResourcesByUserRequest {
  userId: string;
}

/** Resource counts per pool key id (live records only). */
export type ResourceCounts = Record<string, number>;

export const ResourcePattern = {
  /** RPC to key-pool: ResourcesByUserRequest -> ResourceRecord[] */
  ByUser: 'resources.by-user',
  /** RPC to key-pool: {} -> ResourceCounts */
  CountsByKey: 'resources.counts-by-key',
} as const;

/** Redis keys of the records, under REDIS_NAMESPACE. */
export const resourceRedisKeys = {
  /** hash: u (userId), k (pool key id), t (kind), s (size), c (created ms), e (expiry ms, 0 = none) */
  record: (ns: string, name: string): string => `${ns}:resources:r:${name}`,
  /** sorted set of a user's names of one kind, scored by creation time (ms) */
  byUser: (ns: string, userId: string, kind: ResourceKind): string => `${ns}:resources:u:${userId}:${kind}`,
  /** sorted set of the names a pool key holds, scored by expiry (ms; +inf when none) */
  byKey: (ns: string, keyId: string): string => `${ns}:resources:k:${keyId}`,
};
