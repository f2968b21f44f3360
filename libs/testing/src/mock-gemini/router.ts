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
    return VERSIONS.has(version) && seg[3] === 'files' && seg.length === 4 && httpMethod === 'POST'
      ? { apiMethod: 'upload', version, model: '', id: '' }
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
