import type { ResourceKind } from '@gg/contracts';
import { bodyReferences } from './body-references';
import { COLLECTION_KIND, ownedNameOf, uploadSessionName, type OwnedName } from './resource-names';

/** What the ownership layer does with one data-plane request; null for the many that touch no owned resource. */
export interface ResourcePlan {
  /** owned resources the request names (path, query, body): every one must be the caller's */
  refs: OwnedName[];
  /** a list call of an owned kind, answered by the gateway from the caller's own records */
  list: ResourceKind | null;
  /** API version of the path (`v1beta`), for the upstream calls a list makes */
  version: string;
  /** the answer may name new resources (a create, an upload, a job whose results are files): record them */
  captures: boolean;
  /** a DELETE of this resource: its record goes when the upstream agrees */
  deletes: OwnedName | null;
  /** a PATCH of this resource: its expiry may have moved */
  updates: OwnedName | null;
  /** a path to resources the gateway cannot tell the owner of (Google's OpenAI-compatible files and batches):
   * refused as not found, failing closed */
  unsupported: string | null;
}

const VERSION = /^v1(?:beta|alpha)?$/;
/** Google's OpenAI-compatible layer holds files and batches of the key's project too, in shapes not recorded here */
const OPENAI_OWNED = new Set(['files', 'batches', 'vector_stores', 'uploads']);
/** project-wide collections the gateway keeps no owners for (generated files are recorded through their operation;
 * their list would show every user's; the retired semantic retriever's corpora are not recorded at all) */
const UNRECORDED = new Set(['generatedfiles', 'corpora']);
/** model methods whose answer is a new batch or long-running operation */
const CREATING_MODEL_METHODS = new Set(['batchgeneratecontent', 'asyncbatchembedcontent', 'predictlongrunning']);
/** methods that use a resource (a tuned model) and create nothing: their answers (streams) are never held */
const USING_METHODS = new Set([
  'generatecontent',
  'streamgeneratecontent',
  'counttokens',
  'embedcontent',
  'batchembedcontents',
  'predict',
]);

/**
 * The plan for a request, from its method, raw URL (path and query) and, for non-upload requests, its JSON body.
 * The path is read as the upstream will read it: percent-decoded, empty and dot segments resolved.
 */
export function planRequest(
  method: string,
  url: string,
  body: Buffer[] | null,
  upstreamHosts: readonly string[],
): ResourcePlan | null {
  const q = url.indexOf('?');
  const raw = q === -1 ? url : url.slice(0, q);
  const path = raw.includes('%') || raw.includes('/.') || raw.includes('//') ? canonicalPath(raw) : raw;
  const seg = path.split('/').filter((s) => s !== '');
  const upload = seg[0] === 'upload';
  // `/download/{v}/files/{id}:download` names the file like `/{v}/files/{id}:download` (the route refuses the rest)
  if (upload || seg[0] === 'download') seg.shift();
  if (seg.length === 0 || !VERSION.test(seg[0])) return null;
  const version = seg[0];
  const rest = seg.slice(1);
  const verb = method.toUpperCase();
  const plan: ResourcePlan = {
    refs: [],
    list: null,
    version,
    captures: false,
    deletes: null,
    updates: null,
    unsupported: null,
  };
  if (rest[0]?.toLowerCase() === 'openai' && rest.length > 1 && OPENAI_OWNED.has(rest[1].split(':')[0].toLowerCase())) {
    plan.unsupported = rest.slice(0, 2).join('/');
    return plan;
  }
  if (rest.length > 0 && UNRECORDED.has(rest[0].split(':')[0].toLowerCase())) {
    plan.unsupported = rest[0].split(':')[0];
    return plan;
  }

  if (upload) {
    // resumable chunks name their session in the query; the bytes themselves are never read here
    for (const id of queryValues(q === -1 ? '' : url.slice(q + 1), 'upload_id'))
      plan.refs.push({ name: uploadSessionName(id), kind: 'uploadSession' });
    plan.captures = verb === 'POST';
  }
  const owned = rest.length > 0 ? ownedNameOf(rest.join('/')) : null;
  if (owned) {
    plan.refs.push(owned);
    const direct = rest.length === 2 && !rest[1].includes(':');
    if (verb === 'DELETE' && direct) plan.deletes = owned;
    if (verb === 'PATCH') plan.updates = owned;
    // a job's answer names its result files; a store's import or upload answers with an operation
    const last = rest[rest.length - 1];
    const using = last.includes(':') && USING_METHODS.has(last.slice(last.lastIndexOf(':') + 1).toLowerCase());
    if (owned.kind === 'batch' || owned.kind === 'operation' || (verb === 'POST' && !using)) plan.captures = true;
  } else if (rest.length === 1) {
    const [coll, colonVerb] = rest[0].split(':');
    const kind = COLLECTION_KIND[coll.toLowerCase()];
    if (kind && !colonVerb && verb === 'GET' && !upload) plan.list = kind;
    else if (kind && verb === 'POST') plan.captures = true;
  } else if (rest.length === 2 && rest[0].toLowerCase() === 'models') {
    const m = rest[1].lastIndexOf(':');
    if (m !== -1 && verb === 'POST' && CREATING_MODEL_METHODS.has(rest[1].slice(m + 1).toLowerCase()))
      plan.captures = true;
  } else if (
    rest.length === 3 &&
    rest[0].toLowerCase() === 'models' &&
    rest[2].toLowerCase() === 'operations' &&
    verb === 'GET'
  ) {
    plan.list = 'operation';
  }

  if (!upload && body && body.length > 0) plan.refs.push(...bodyReferences(body, upstreamHosts));
  if (plan.refs.length === 0 && !plan.list && !plan.captures) return null;
  plan.refs = dedupe(plan.refs);
  return plan;
}

/** Percent-decoded (a `%2F` is a `/` to the upstream), empty and `.` segments dropped, `..` applied. */
export function canonicalPath(raw: string): string {
  let p = raw;
  for (let i = 0; i < 3 && p.includes('%'); i++) {
    try {
      const d = decodeURIComponent(p);
      if (d === p) break;
      p = d;
    } catch {
      break;
    }
  }
  const out: string[] = [];
  for (const s of p.split('/')) {
    if (s === '' || s === '.') continue;
    if (s === '..') out.pop();
    else out.push(s);
  }
  return '/' + out.join('/');
}

function queryValues(query: string, name: string): string[] {
  const out: string[] = [];
  for (const part of query.split('&')) {
    const eq = part.indexOf('=');
    const k = eq === -1 ? part : part.slice(0, eq);
    if (safeDecode(k) !== name) continue;
    out.push(safeDecode(eq === -1 ? '' : part.slice(eq + 1)));
  }
  return out;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

function dedupe(refs: OwnedName[]): OwnedName[] {
  const seen = new Set<string>();
  return refs.filter((r) => (seen.has(r.name) ? false : (seen.add(r.name), true)));
}
