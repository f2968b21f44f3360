import type { GoogleStatus } from '@gg/contracts';
import type { ModelSource } from '../limits/model-allowed';

/** Body fields (dotted, `[]` for every element of a list) that name models, read once the body is in. */
export interface BodyModels {
  fields: readonly string[];
  /** the request cannot run without one of them (a create): none found means the model is unknown */
  required: boolean;
}

/** A route the gateway never serves, whatever the key: answered once the key is authenticated, nothing upstream. */
export interface Refusal {
  code: number;
  status: GoogleStatus;
  message: string;
  /** what the request log keeps */
  reason: string;
}

/**
 * Live API ephemeral tokens (`/{v}/auth_tokens`, also spelled `authTokens`): a token minted on a pool key works directly at Google, outside
 * the gateway, uncounted and unlimited. Every method on the collection is refused, for every key.
 */
export const EPHEMERAL_TOKENS_REFUSED: Refusal = Object.freeze({
  code: 403,
  status: 'PERMISSION_DENIED',
  message: 'Ephemeral tokens are not issued through this gateway: they would reach Google outside it.',
  reason: 'ephemeral tokens are not issued through this gateway',
});

/**
 * One request, parsed once (API version, resource, model, method), without `new URL()` on the hot path. The path
 * has passed `canonicalUrl` (no dot-segments, no encoded slashes), so what is read here is what the upstream reads.
 */
export interface Target {
  /** path as sent (percent-encoding kept) */
  path: string;
  /** raw query without the leading '?', `key` removed */
  query: string;
  /** the `key` query parameter, if any */
  queryKey: string | null;
  /** `v1beta`, `v1` or `v1alpha`; null on any other path */
  version: string | null;
  /** under `/upload/` */
  upload: boolean;
  /** the collection after the version, decoded (`models`, `files`, `cachedContents`, `openai`, …); '' when none */
  resource: string;
  /** the model the path names, decoded: `gemini-2.5-flash` (no `models/`), `tunedModels/{id}` for a tuned model */
  model: string | null;
  /** the custom method after the last ':' of a model path (generateContent, streamGenerateContent, …) */
  method: string | null;
  /** `alt=sse` was asked for */
  sse: boolean;
  /** how the allow-list applies (see ModelSource) */
  modelSource: ModelSource;
  /** where the body names models, when it must be read for them */
  bodyModels: BodyModels | null;
  /** the route is refused to every key (see Refusal); null: served */
  refusal: Refusal | null;
}

const VERSIONS = new Set(['v1beta', 'v1', 'v1alpha']);

/**
 * Google's media path `/download/{v}/…` serves one thing: a file's bytes (`files/{id}:download`, a batch's results).
 * Anything else under it is refused for every key rather than sent to a path nobody checked.
 */
export const DOWNLOAD_PATH_REFUSED: Refusal = Object.freeze({
  code: 404,
  status: 'NOT_FOUND',
  message: 'Only GET /download/{version}/files/{id}:download is served under /download/.',
  reason: 'unsupported /download/ path',
});

/** Batch jobs: the batch's model and the model of every inlined request. */
const BATCH: BodyModels = {
  fields: ['batch.model', 'batch.inputConfig.requests.requests[].request.model'],
  required: false,
};

/**
 * Model methods whose body may name further models. Not read: the top-level `model` of generateContent,
 * embedContent and the like, which Google takes from the path (the field is bound there), so the hot path never
 * parses JSON.
 */
const MODEL_METHOD_BODY: Readonly<Record<string, BodyModels>> = {
  batchembedcontents: { fields: ['requests[].model'], required: false },
  counttokens: { fields: ['generateContentRequest.model'], required: false },
  batchgeneratecontent: BATCH,
  asyncbatchembedcontent: BATCH,
};
const CACHE_CREATE: BodyModels = { fields: ['model'], required: true };
const TUNING: BodyModels = { fields: ['baseModel', 'tunedModelSource.tunedModel'], required: true };
const OPENAI_BODY: BodyModels = { fields: ['model'], required: true };

export function parseTarget(url: string, httpMethod = 'POST'): Target {
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  let query = '';
  let queryKey: string | null = null;
  let sse = false;
  if (q !== -1) {
    const kept: string[] = [];
    for (const part of url.slice(q + 1).split('&')) {
      if (part === '') continue;
      if (part.startsWith('key=')) {
        queryKey = decodeQuery(part.slice(4));
        continue;
      }
      if (part === 'alt=sse') sse = true;
      kept.push(part);
    }
    query = kept.join('&');
  }
  const t: Target = {
    path,
    query,
    queryKey,
    version: null,
    upload: false,
    resource: '',
    model: null,
    method: null,
    sse,
    modelSource: 'named',
    bodyModels: null,
    refusal: null,
  };
  const segs = path.split('/');
  let i = 1;
  if (segs[1] === 'upload') {
    t.upload = true;
    i = 2;
  }
  const download = segs[1] === 'download';
  if (download) i = 2;
  if (!VERSIONS.has(segs[i])) {
    if (download) t.refusal = DOWNLOAD_PATH_REFUSED;
    return t;
  }
  t.version = segs[i];
  const rest = segs.slice(i + 1);
  if (path.includes('%')) for (let k = 0; k < rest.length; k++) rest[k] = decodeSegment(rest[k]);
  classify(t, httpMethod.toUpperCase(), rest);
  if (download && !isFileDownload(httpMethod.toUpperCase(), rest)) t.refusal = DOWNLOAD_PATH_REFUSED;
  return t;
}

/**
 * Which model a request runs, by route. The rule: a path that names a model is checked; a body that names models
 * (creates, batches, Google's OpenAI layer, countTokens and batchEmbedContents) is checked once read; reading,
 * listing and deleting run no model (`none`), nor do files, uploads and operations whatever the method; anything
 * else is `named` with no model, so a key with an allow-list is refused (fail closed).
 */
function classify(t: Target, verb: string, rest: string[]): void {
  const reads = verb === 'GET' || verb === 'HEAD' || verb === 'DELETE';
  const coll = rest[0] ?? '';
  t.resource = coll;
  const kind = coll.toLowerCase();
  const direct = rest.length === 1 || (rest.length === 2 && rest[1] === '');
  // the allow-list rule below stays as it is (no model: fail closed); the refusal comes first, for every key
  if (kind.split(':')[0].replace(/_/g, '') === 'authtokens') t.refusal = EPHEMERAL_TOKENS_REFUSED;
  if (t.upload) {
    if (kind === 'files' && direct) t.modelSource = 'none';
    else if (reads) t.modelSource = 'none';
    return;
  }
  switch (kind) {
    case 'models':
    case 'tunedmodels': {
      const tuned = kind === 'tunedmodels';
      if (direct) {
        if (tuned && verb === 'POST') body(t, TUNING);
        else if (reads) t.modelSource = 'none';
        return;
      }
      let id = rest[1];
      if (rest.length === 2) {
        const colon = id.lastIndexOf(':');
        if (colon !== -1) {
          t.method = id.slice(colon + 1);
          id = id.slice(0, colon);
        }
      }
      t.model = tuned ? `tunedModels/${id}` : id;
      const extra = t.method && verb === 'POST' ? MODEL_METHOD_BODY[t.method.toLowerCase()] : undefined;
      if (extra) body(t, extra);
      return;
    }
    case 'cachedcontents':
      if (direct && verb === 'POST') body(t, CACHE_CREATE);
      else if (reads || (verb === 'PATCH' && !direct && rest.length === 2 && !rest[1].includes(':')))
        t.modelSource = 'none';
      return;
    case 'batches':
      if (reads || (verb === 'POST' && rest.length === 2 && rest[1].endsWith(':cancel'))) t.modelSource = 'none';
      return;
    case 'files':
    case 'operations':
      t.modelSource = 'none';
      return;
    case 'openai':
      openAi(t, reads, rest);
      return;
    default:
      if (reads) t.modelSource = 'none';
  }
}

/** Google's OpenAI layer: `GET models/{id}` names a model, other reads none, anything else names it in the body. */
function openAi(t: Target, reads: boolean, rest: string[]): void {
  if (reads && rest[1] === 'models' && rest.length > 2 && rest[2] !== '') {
    t.model = rest
      .slice(2)
      .join('/')
      .replace(/^models\//, '');
  } else if (reads || rest[1] === 'files') t.modelSource = 'none';
  else body(t, OPENAI_BODY);
}

function body(t: Target, spec: BodyModels): void {
  t.modelSource = 'body';
  t.bodyModels = spec;
}

/** `GET files/{id}:download` (decoded segments), the one route of `/download/`. */
function isFileDownload(verb: string, rest: string[]): boolean {
  return (
    (verb === 'GET' || verb === 'HEAD') && rest.length === 2 && rest[0] === 'files' && /^[^:]+:download$/.test(rest[1])
  );
}

/** A path segment as the upstream reads it ('+' is a plus in a path); malformed escapes stay as sent. */
function decodeSegment(s: string): string {
  if (!s.includes('%')) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function decodeQuery(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}
