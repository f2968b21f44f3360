/** Which API method a path names (docs/gemini-wire.md §1–2): `/{v}/models/{m}:{method}`, files, cachedContents, uploads. */
import type { MockMethod } from './types';

export interface Route {
  apiMethod: MockMethod;
  version: string;
  model: string;
  id: string;
}

const VERSIONS = new Set(['v1beta', 'v1', 'v1alpha']);
const MODEL_METHODS = new Set<string>([
  'generateContent',
  'streamGenerateContent',
  'countTokens',
  'embedContent',
  'batchEmbedContents',
  'predict',
  'batchGenerateContent',
]);

const UNKNOWN: Route = { apiMethod: 'unknown', version: '', model: '', id: '' };

export function route(httpMethod: string, path: string): Route {
  // path: '/v1beta/models/gemini-2.5-flash:generateContent' → ['', 'v1beta', 'models', 'gemini-2.5-flash:generateContent']
  const seg = path.split('/');
  if (seg[1] === 'upload') {
    const version = seg[2];
    if (!VERSIONS.has(version) || httpMethod !== 'POST') return UNKNOWN;
    if (seg[3] === 'files' && seg.length === 4) return { apiMethod: 'upload', version, model: '', id: '' };
    const store = seg[4]?.endsWith(':uploadToFileSearchStore') ? seg[4].slice(0, seg[4].lastIndexOf(':')) : '';
    return seg[3] === 'fileSearchStores' && seg.length === 5 && store
      ? { apiMethod: 'fileSearchStores.uploadToFileSearchStore', version, model: '', id: store }
      : UNKNOWN;
  }
  if (seg[1] === 'download') {
    // Google's media host path for a file's bytes: `/download/{v}/files/{id}:download?alt=media`
    const version = seg[2];
    const id = seg[4]?.endsWith(':download') ? seg[4].slice(0, -':download'.length) : '';
    return VERSIONS.has(version) && seg[3] === 'files' && seg.length === 5 && id && httpMethod === 'GET'
      ? { apiMethod: 'files.download', version, model: '', id }
      : UNKNOWN;
  }
  const version = seg[1];
  if (!VERSIONS.has(version)) return UNKNOWN;
  const collection = seg[2];
  const rest = seg.length > 3 ? seg.slice(3).join('/') : undefined;
  switch (collection) {
    case 'models':
      return models(httpMethod, version, rest);
    case 'files':
      return resource(httpMethod, version, rest, 'files');
    case 'cachedContents':
      return resource(httpMethod, version, rest, 'cachedContents');
    case 'batches':
      return batches(httpMethod, version, rest);
    case 'fileSearchStores':
      return { apiMethod: searchStores(httpMethod, rest), version, model: '', id: rest ?? '' };
    case 'openai':
      return { apiMethod: 'openai', version, model: '', id: '' };
    default:
      return { ...UNKNOWN, version };
  }
}

function models(httpMethod: string, version: string, rest: string | undefined): Route {
  if (rest === undefined || rest === '') {
    return { apiMethod: httpMethod === 'GET' ? 'models.list' : 'unknown', version, model: '', id: '' };
  }
  const colon = rest.lastIndexOf(':');
  if (colon < 0) return { apiMethod: httpMethod === 'GET' ? 'models.get' : 'unknown', version, model: rest, id: '' };
  const method = rest.slice(colon + 1);
  const model = rest.slice(0, colon);
  const known = httpMethod === 'POST' && MODEL_METHODS.has(method);
  return { apiMethod: known ? (method as MockMethod) : 'unknown', version, model, id: '' };
}

function batches(httpMethod: string, version: string, rest: string | undefined): Route {
  if (rest === undefined || rest === '')
    return { apiMethod: httpMethod === 'GET' ? 'batches.list' : 'unknown', version, model: '', id: '' };
  if (rest.endsWith(':cancel') && httpMethod === 'POST')
    return { apiMethod: 'batches.cancel', version, model: '', id: rest.slice(0, -7) };
  if (rest.includes('/') || rest.includes(':')) return { ...UNKNOWN, version };
  const apiMethod = httpMethod === 'GET' ? 'batches.get' : httpMethod === 'DELETE' ? 'batches.delete' : 'unknown';
  return { apiMethod, version, model: '', id: rest };
}

/** `fileSearchStores[/{s}[:importFile | /documents[/{d}] | /operations/{o} | /upload/operations/{o}]]` */
function searchStores(httpMethod: string, rest: string | undefined): MockMethod {
  const get = httpMethod === 'GET';
  if (rest === undefined || rest === '') {
    return get ? 'fileSearchStores.list' : httpMethod === 'POST' ? 'fileSearchStores.create' : 'unknown';
  }
  const seg = rest.split('/');
  if (seg.length === 1) {
    if (seg[0].endsWith(':importFile')) return httpMethod === 'POST' ? 'fileSearchStores.importFile' : 'unknown';
    if (seg[0].includes(':')) return 'unknown';
    return get ? 'fileSearchStores.get' : httpMethod === 'DELETE' ? 'fileSearchStores.delete' : 'unknown';
  }
  if (seg[1] === 'documents' && seg.length === 2) return get ? 'fileSearchStores.documents.list' : 'unknown';
  if (seg[1] === 'documents' && seg.length === 3 && !seg[2].includes(':')) {
    return get
      ? 'fileSearchStores.documents.get'
      : httpMethod === 'DELETE'
        ? 'fileSearchStores.documents.delete'
        : 'unknown';
  }
  const op =
    (seg[1] === 'operations' && seg.length === 3) ||
    (seg[1] === 'upload' && seg[2] === 'operations' && seg.length === 4);
  return op && get ? 'fileSearchStores.operations.get' : 'unknown';
}

function resource(
  httpMethod: string,
  version: string,
  rest: string | undefined,
  kind: 'files' | 'cachedContents',
): Route {
  if (rest === undefined || rest === '') {
    if (httpMethod === 'GET') return { apiMethod: `${kind}.list`, version, model: '', id: '' };
    if (httpMethod === 'POST' && kind === 'cachedContents')
      return { apiMethod: 'cachedContents.create', version, model: '', id: '' };
    return { ...UNKNOWN, version };
  }
  if (kind === 'files' && rest.endsWith(':download') && httpMethod === 'GET') {
    return { apiMethod: 'files.download', version, model: '', id: rest.slice(0, -':download'.length) };
  }
  if (rest.includes('/') || rest.includes(':')) return { ...UNKNOWN, version };
  const byVerb: Record<string, MockMethod | undefined> = {
    GET: `${kind}.get`,
    DELETE: `${kind}.delete`,
    PATCH: kind === 'cachedContents' ? 'cachedContents.patch' : undefined,
  };
  const apiMethod = byVerb[httpMethod];
  return apiMethod ? { apiMethod, version, model: '', id: rest } : { ...UNKNOWN, version };
}
