import { InvalidRequestError } from './openai-errors';
import { base64Floats, mapEmbeddingsRequest, toEmbeddings, toModelList } from './models-embeddings';

describe('models and embeddings mapping', () => {
  it('lists models with ids users type into OpenAI clients', () => {
    expect(
      toModelList({
        models: [{ name: 'models/gemini-2.5-flash', displayName: 'x' }, { name: 'models/gemini-embedding-001' }],
      }),
    ).toEqual({
      object: 'list',
      data: [
        { id: 'gemini-2.5-flash', object: 'model', created: 0, owned_by: 'google' },
        { id: 'gemini-embedding-001', object: 'model', created: 0, owned_by: 'google' },
      ],
    });
  });

  it.each([
    [
      'a string',
      { model: 'gemini-embedding-001', input: 'a' },
      [{ model: 'models/gemini-embedding-001', content: { parts: [{ text: 'a' }] } }],
    ],
    [
      'an array with dimensions',
      { model: 'models/gemini-embedding-001', input: ['a', 'b'], dimensions: 4 },
      [
        { model: 'models/gemini-embedding-001', content: { parts: [{ text: 'a' }] }, outputDimensionality: 4 },
        { model: 'models/gemini-embedding-001', content: { parts: [{ text: 'b' }] }, outputDimensionality: 4 },
      ],
    ],
  ])('maps input as %s to batchEmbedContents', (_n, body, requests) => {
    expect(mapEmbeddingsRequest(body).body).toEqual({ requests });
  });

  it.each([
    [{ model: 'gemini-embedding-001', input: [1, 2, 3] }, 'input'],
    [{ model: 'gemini-embedding-001', input: [] }, 'input'],
    [{ model: 'gemini-embedding-001', input: 'a', dimensions: 0 }, 'dimensions'],
    [{ model: 'gemini-embedding-001', input: 'a', encoding_format: 'hex' }, 'encoding_format'],
    [{ input: 'a' }, 'model'],
  ])('refuses %j', (body, param) => {
    expect(() => mapEmbeddingsRequest(body)).toThrow(InvalidRequestError);
    try {
      mapEmbeddingsRequest(body);
    } catch (e) {
      expect((e as InvalidRequestError).param).toBe(param);
    }
  });

  it('answers floats or base64 float32 (the SDK default) in input order', () => {
    const g = { embeddings: [{ values: [0.5, -1] }, { values: [0.25, 2] }] };
    const float = toEmbeddings(g, mapEmbeddingsRequest({ model: 'gemini-embedding-001', input: ['a', 'b'] }));
    expect(float).toEqual({
      object: 'list',
      data: [
        { object: 'embedding', index: 0, embedding: [0.5, -1] },
        { object: 'embedding', index: 1, embedding: [0.25, 2] },
      ],
      model: 'gemini-embedding-001',
      usage: { prompt_tokens: 0, total_tokens: 0 },
    });
    const b64 = toEmbeddings(
      g,
      mapEmbeddingsRequest({ model: 'gemini-embedding-001', input: ['a', 'b'], encoding_format: 'base64' }),
    );
    const back = Buffer.from(b64['data'][1].embedding, 'base64');
    expect(Array.from(new Float32Array(back.buffer, back.byteOffset, back.byteLength / 4))).toEqual([0.25, 2]);
    expect(base64Floats([1])).toBe(Buffer.from(new Float32Array([1]).buffer).toString('base64'));
  });
});
