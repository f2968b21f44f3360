import type { Json } from './chat-messages';
import { modelId } from './chat-request';
import { InvalidRequestError } from './openai-errors';

/** One Gemini Model as an OpenAI model: the id without `models/`, which is what users type into OpenAI clients. */
export function toOpenAiModel(m: Json): Json {
  const name = typeof m['name'] === 'string' ? m['name'] : '';
  return { id: name.replace(/^(?:models|tunedModels)\//, ''), object: 'model', created: 0, owned_by: 'google' };
}

export function toModelList(g: Json): Json {
  const models = Array.isArray(g['models']) ? (g['models'] as Json[]) : [];
  return { object: 'list', data: models.map(toOpenAiModel) };
}

export interface EmbeddingsRequest {
  model: string;
  /** the batchEmbedContents body */
  body: Json;
  encoding: 'float' | 'base64';
  count: number;
}

/** `input` (a string or an array of strings) → one batchEmbedContents request per input, in order. */
export function mapEmbeddingsRequest(raw: unknown): EmbeddingsRequest {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    throw new InvalidRequestError('The request body must be a JSON object.');
  const r = raw as Json;
  const model = modelId(r['model']);
  const input = r['input'];
  const texts = typeof input === 'string' ? [input] : input;
  if (!Array.isArray(texts) || texts.length === 0 || !texts.every((t) => typeof t === 'string')) {
    throw new InvalidRequestError(
      "'input' must be a string or a non-empty array of strings (token arrays are not supported).",
      'input',
    );
  }
  const dims = r['dimensions'];
  if (dims !== undefined && dims !== null && (!Number.isInteger(dims) || dims < 1)) {
    throw new InvalidRequestError("'dimensions' must be a positive integer.", 'dimensions');
  }
  const encoding = r['encoding_format'] ?? 'float';
  if (encoding !== 'float' && encoding !== 'base64') {
    throw new InvalidRequestError("Invalid value for 'encoding_format': expected float or base64.", 'encoding_format');
  }
  const requests = (texts as string[]).map((text) => {
    const one: Json = { model: `models/${model}`, content: { parts: [{ text }] } };
    if (typeof dims === 'number') one['outputDimensionality'] = dims;
    return one;
  });
  return { model, body: { requests }, encoding, count: requests.length };
}

/** Float32 little-endian bytes in base64, as OpenAI answers `encoding_format: base64` (the SDK's default). */
export function base64Floats(values: number[]): string {
  const f = new Float32Array(values);
  return Buffer.from(f.buffer, f.byteOffset, f.byteLength).toString('base64');
}

export function toEmbeddings(g: Json, req: EmbeddingsRequest): Json {
  const embeddings = Array.isArray(g['embeddings']) ? (g['embeddings'] as Json[]) : [];
  const data = embeddings.map((e, index) => {
    const values = Array.isArray(e?.['values']) ? (e['values'] as number[]) : [];
    return { object: 'embedding', index, embedding: req.encoding === 'base64' ? base64Floats(values) : values };
  });
  const prompt = Number(g['usageMetadata']?.['promptTokenCount'] ?? 0) || 0;
  return { object: 'list', data, model: req.model, usage: { prompt_tokens: prompt, total_tokens: prompt } };
}
