import type { ResourceKind } from '@gg/contracts';

/** Collections whose members belong to whoever created them, by their name's first segment. */
export const COLLECTION_KIND: Readonly<Record<string, ResourceKind>> = {
  files: 'file',
  cachedcontents: 'cachedContent',
  batches: 'batch',
  filesearchstores: 'fileSearchStore',
  tunedmodels: 'tunedModel',
  operations: 'operation',
};

const CANONICAL: Readonly<Record<string, string>> = {
  files: 'files',
  cachedcontents: 'cachedContents',
  batches: 'batches',
  filesearchstores: 'fileSearchStores',
  tunedmodels: 'tunedModels',
  operations: 'operations',
};

/** How a list call answers, per kind: Google's field name and page sizes. */
export const LIST_SHAPE: Readonly<Record<ResourceKind, { field: string; defaultSize: number }>> = {
  file: { field: 'files', defaultSize: 10 },
  cachedContent: { field: 'cachedContents', defaultSize: 50 },
  batch: { field: 'operations', defaultSize: 50 },
  fileSearchStore: { field: 'fileSearchStores', defaultSize: 10 },
  tunedModel: { field: 'tunedModels', defaultSize: 50 },
  operation: { field: 'operations', defaultSize: 50 },
  uploadSession: { field: 'uploadSessions', defaultSize: 10 },
};
export const MAX_PAGE_SIZE = 100;

const HOUR = 3600_000;
/**
 * How long a record lives when the creating answer gives no expiry: files 48 h and cached contents 1 h (Google's
 * defaults), resumable sessions a week; batches and operations 30 days (Google keeps finished jobs a while and says
 * not how long: better a record outliving its job than an owner locked out of their results); stores and tuned
 * models are kept until deleted (0).
 */
export const DEFAULT_TTL_MS: Readonly<Record<ResourceKind, number>> = {
  file: 48 * HOUR,
  cachedContent: HOUR,
  uploadSession: 7 * 24 * HOUR,
  batch: 30 * 24 * HOUR,
  operation: 30 * 24 * HOUR,
  fileSearchStore: 0,
  tunedModel: 0,
};

export interface OwnedName {
  /** the name whose record decides: `files/abc`, `fileSearchStores/s` for its documents, `upload:<id>` */
  name: string;
  kind: ResourceKind;
}

/**
 * The owned resource a resource name (or a path below the version) belongs to, or null when it names nothing owned
 * (a model, a prompt's URL). Children go to their parent: `fileSearchStores/s/documents/d` → `fileSearchStores/s`,
 * `tunedModels/t/operations/o` → `tunedModels/t`; a model's long-running operation is owned by itself.
 * Collection names are matched without regard to case, so that `FILES/abc` cannot slip by.
 */
export function ownedNameOf(path: string): OwnedName | null {
  const seg = path.split('/');
  const first = seg[0];
  const colon = first.indexOf(':');
  const coll = (colon === -1 ? first : first.slice(0, colon)).toLowerCase();
  const canonical = CANONICAL[coll];
  if (canonical) {
    if (colon !== -1 || seg.length < 2) return null;
    const id = stripVerb(seg[1]);
    if (!id) return null;
    return { name: `${canonical}/${id}`, kind: COLLECTION_KIND[coll] };
  }
  if (coll === 'models' && seg.length >= 4 && seg[2].toLowerCase() === 'operations') {
    const id = stripVerb(seg[3]);
    if (!id || !seg[1]) return null;
    return { name: `models/${seg[1]}/operations/${id}`, kind: 'operation' };
  }
  return null;
}

function stripVerb(s: string): string {
  const c = s.indexOf(':');
  return c === -1 ? s : s.slice(0, c);
}

/** The resource an upload session id stands for. */
export function uploadSessionName(uploadId: string): string {
  return `upload:${uploadId}`;
}
