/** The mock's model catalogue: models.list (paged) and models.get, bodies computed once. */
import { googleError, type GoogleError } from './errors';
import { pretty } from './google-json';
import { Prepared } from './http-out';

const GENERATE = ['generateContent', 'countTokens', 'createCachedContent', 'batchGenerateContent'];

export const MODELS: readonly Record<string, unknown>[] = [
  {
    name: 'models/gemini-2.5-flash',
    version: '001',
    displayName: 'Gemini 2.5 Flash',
    description:
      'Stable version of Gemini 2.5 Flash, our mid-size multimodal model that supports up to 1 million tokens.',
    inputTokenLimit: 1048576,
    outputTokenLimit: 65536,
    supportedGenerationMethods: GENERATE,
    temperature: 1,
    topP: 0.95,
    topK: 64,
    maxTemperature: 2,
    thinking: true,
  },
  {
    name: 'models/gemini-2.5-pro',
    version: '2.5',
    displayName: 'Gemini 2.5 Pro',
    description: 'Stable release of Gemini 2.5 Pro.',
    inputTokenLimit: 1048576,
    outputTokenLimit: 65536,
    supportedGenerationMethods: GENERATE,
    temperature: 1,
    topP: 0.95,
    topK: 64,
    maxTemperature: 2,
    thinking: true,
  },
  {
    name: 'models/gemini-3-flash-preview',
    version: '3-flash-preview',
    displayName: 'Gemini 3 Flash Preview',
    description: 'Gemini 3 Flash Preview',
    inputTokenLimit: 1048576,
    outputTokenLimit: 65536,
    supportedGenerationMethods: GENERATE,
    temperature: 1,
    topP: 0.95,
    topK: 64,
    maxTemperature: 2,
    thinking: true,
  },
  {
    name: 'models/gemini-embedding-001',
    version: '001',
    displayName: 'Gemini Embedding 001',
    description: 'Obtain a distributed representation of a text.',
    inputTokenLimit: 2048,
    outputTokenLimit: 1,
    supportedGenerationMethods: ['embedContent', 'countTextTokens', 'countTokens', 'asyncBatchEmbedContent'],
  },
  {
    name: 'models/imagen-4.0-generate-001',
    version: '001',
    displayName: 'Imagen 4',
    description: 'Vertex served Imagen 4.0 model',
    inputTokenLimit: 480,
    outputTokenLimit: 8192,
    supportedGenerationMethods: ['predict'],
  },
];

const MODEL_IDS = new Set(MODELS.map((m) => (m['name'] as string).slice('models/'.length)));
const GET_BODIES = new Map(
  MODELS.map((m) => [(m['name'] as string).slice('models/'.length), new Prepared(200, pretty(m) + '\n')]),
);
const LIST_CACHE = new Map<string, Prepared | GoogleError>();

export function isKnownModel(id: string): boolean {
  return MODEL_IDS.has(id);
}

export function modelBody(id: string): Prepared | undefined {
  return GET_BODIES.get(id);
}

/** `pageToken` is opaque: base64url of the next index. */
export function listBody(pageSize: string | undefined, pageToken: string | undefined): Prepared | GoogleError {
  const cacheKey = `${pageSize ?? ''}|${pageToken ?? ''}`;
  const cached = LIST_CACHE.get(cacheKey);
  if (cached) return cached;
  const result = computeList(pageSize, pageToken);
  if (LIST_CACHE.size < 1000) LIST_CACHE.set(cacheKey, result);
  return result;
}

function computeList(pageSize: string | undefined, pageToken: string | undefined): Prepared | GoogleError {
  let size = pageSize === undefined || pageSize === '' ? 50 : Number(pageSize);
  if (!Number.isInteger(size) || size < 0) return googleError(400, 'Invalid page size.', 'INVALID_ARGUMENT');
  if (size === 0) size = 50;
  size = Math.min(size, 1000);
  let start = 0;
  if (pageToken) {
    start = Number(Buffer.from(pageToken, 'base64url').toString('utf8').replace(/^m/, ''));
    if (!Number.isInteger(start) || start < 0 || start > MODELS.length) {
      return googleError(400, 'Invalid page token.', 'INVALID_ARGUMENT');
    }
  }
  const end = Math.min(MODELS.length, start + size);
  const body: Record<string, unknown> = { models: MODELS.slice(start, end) };
  if (end < MODELS.length) body['nextPageToken'] = Buffer.from(`m${end}`).toString('base64url');
  return new Prepared(200, pretty(body) + '\n');
}
