/** countTokens, embedContent, batchEmbedContents and a minimal :predict. Return the response object or an error. */
import { invalidArgument, type GoogleError } from './errors';
import { fnv1a } from './google-json';
import { promptWords } from './generate';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A 1x1 transparent PNG. */
const PNG_1X1 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=';

export function countTokens(body: Json): Json {
  const inner = body['generateContentRequest'] ?? body['generate_content_request'];
  const n = promptWords(inner && typeof inner === 'object' ? inner : body);
  return { totalTokens: n, promptTokensDetails: [{ modality: 'TEXT', tokenCount: n }] };
}

function contentText(content: unknown): string {
  const parts = (content as Json | undefined)?.['parts'];
  if (!Array.isArray(parts)) return '';
  return parts.map((p: Json) => (typeof p?.['text'] === 'string' ? p['text'] : '')).join(' ');
}

/** Deterministic vector from the text: same text, same values; dimension = outputDimensionality or 8. */
export function vector(text: string, dimension: number): number[] {
  let s = fnv1a(text) || 1;
  const values = new Array<number>(dimension);
  for (let i = 0; i < dimension; i++) {
    s = (s + 0x6d2b79f5) >>> 0; // mulberry32
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    const r = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    values[i] = Math.round((r * 2 - 1) * 1e6) / 1e6;
  }
  return values;
}

function dimension(req: Json): number | GoogleError {
  const d = req['outputDimensionality'] ?? req['output_dimensionality'];
  if (d === undefined || d === null) return 8;
  if (!Number.isInteger(d) || d < 1 || d > 3072)
    return invalidArgument('outputDimensionality must be between 1 and 3072.');
  return d;
}

export function embedContent(body: Json): Json | GoogleError {
  const d = dimension(body);
  if (typeof d !== 'number') return d;
  if (!body['content']) return invalidArgument('* EmbedContentRequest.content: content is not specified\n');
  return { embedding: { values: vector(contentText(body['content']), d) } };
}

export function batchEmbedContents(body: Json, model: string): Json | GoogleError {
  const requests = body['requests'];
  if (!Array.isArray(requests) || requests.length === 0) {
    return invalidArgument('* BatchEmbedContentsRequest.requests: requests is not specified\n');
  }
  const embeddings: Json[] = [];
  for (const r of requests as Json[]) {
    if (r?.['model'] !== undefined && r['model'] !== `models/${model}` && r['model'] !== model) {
      return invalidArgument(
        `Model names should be provided in the same format for all requests; got ${r['model']} for models/${model}.`,
      );
    }
    const d = dimension(r ?? {});
    if (typeof d !== 'number') return d;
    embeddings.push({ values: vector(contentText(r?.['content']), d) });
  }
  return { embeddings };
}

export function predict(body: Json): Json {
  const instances = Array.isArray(body['instances']) ? body['instances'].length : 1;
  const count = Number(body['parameters']?.['sampleCount'] ?? 1) || 1;
  const predictions: Json[] = [];
  for (let i = 0; i < instances * count; i++) predictions.push({ bytesBase64Encoded: PNG_1X1, mimeType: 'image/png' });
  return { predictions };
}
