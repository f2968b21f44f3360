import { jsonStringsAt, modelsInBody } from './target-body';

const json = { 'content-type': 'application/json' };
const body = (v: unknown): Buffer[] => [Buffer.from(typeof v === 'string' ? v : JSON.stringify(v))];

describe('modelsInBody', () => {
  it('finds the model of a create and of the OpenAI layer', () => {
    expect(
      modelsInBody(json, body({ model: 'models/gemini-2.5-pro', contents: [] }), { fields: ['model'], required: true }),
    ).toEqual(['models/gemini-2.5-pro']);
    expect(
      modelsInBody({}, body({ model: 'gemini-2.5-pro', messages: [{ role: 'user', content: 'x' }] }), {
        fields: ['model'],
        required: true,
      }),
    ).toEqual(['gemini-2.5-pro']);
  });

  it('finds every model of a batchEmbedContents, in order', () => {
    const b = {
      requests: [
        { model: 'models/a', content: { parts: [{ text: '"model": "x"' }] } },
        { content: {} },
        { model: 'models/b' },
      ],
    };
    expect(modelsInBody(json, body(b), { fields: ['requests[].model'], required: false })).toEqual([
      'models/a',
      'models/b',
    ]);
  });

  it("reads countTokens' inner request and a tuned model's base, in either spelling", () => {
    const spec = { fields: ['generateContentRequest.model'], required: false };
    expect(modelsInBody(json, body({ generateContentRequest: { model: 'models/p', contents: [] } }), spec)).toEqual([
      'models/p',
    ]);
    expect(modelsInBody(json, body({ generate_content_request: { model: 'models/p' } }), spec)).toEqual(['models/p']);
    expect(modelsInBody(json, body({ contents: [] }), spec)).toEqual([]);
    const tuning = { fields: ['baseModel', 'tunedModelSource.tunedModel'], required: true };
    expect(modelsInBody(json, body({ base_model: 'models/gemini-2.5-pro' }), tuning)).toEqual([
      'models/gemini-2.5-pro',
    ]);
    expect(modelsInBody(json, body({ tuned_model_source: { tuned_model: 'tunedModels/t' } }), tuning)).toEqual([
      'tunedModels/t',
    ]);
  });

  it('counts duplicate and escaped keys: no spelling hides a model', () => {
    const spec = { fields: ['model'], required: true };
    expect(
      modelsInBody(json, body('{"model":"models/gemini-2.5-flash","model":"models/gemini-2.5-pro"}'), spec),
    ).toEqual(['models/gemini-2.5-flash', 'models/gemini-2.5-pro']);
    expect(modelsInBody(json, body('{"\\u006dodel":"gemini-2.5-pro","model":"gemini-2.5-flash"}'), spec)).toEqual([
      'gemini-2.5-pro',
      'gemini-2.5-flash',
    ]);
    expect(modelsInBody(json, body('{"model":"gemini-2.5-\\u0070ro"}'), spec)).toEqual(['gemini-2.5-pro']);
  });

  it('reads batch jobs: the batch model and every inlined request', () => {
    const spec = { fields: ['batch.model', 'batch.inputConfig.requests.requests[].request.model'], required: false };
    const b = {
      batch: {
        model: 'models/m1',
        input_config: { requests: { requests: [{ request: { model: 'models/m2', contents: [] } }, { request: {} }] } },
      },
    };
    expect(modelsInBody(json, body(b), spec)).toEqual(['models/m1', 'models/m2']);
  });

  it('cannot tell the model of a body it cannot read as the upstream does', () => {
    const spec = { fields: ['model'], required: true };
    expect(modelsInBody(json, body('{"model": "x"'), spec)).toBeNull();
    expect(modelsInBody({ 'content-type': 'application/x-protobuf' }, body({ model: 'x' }), spec)).toBeNull();
    expect(modelsInBody({ ...json, 'content-encoding': 'gzip' }, body({ model: 'x' }), spec)).toBeNull();
    expect(modelsInBody(json, body('\ufeff{"model":"x"}'), spec)).toBeNull();
  });

  it('names no model in an empty body, and ignores values that are not strings', () => {
    const spec = { fields: ['model'], required: true };
    expect(modelsInBody(json, [], spec)).toEqual([]);
    expect(modelsInBody(json, body({ model: null }), spec)).toEqual([]);
    expect(modelsInBody(json, body({ model: ['models/x'] }), spec)).toEqual([]);
    expect(modelsInBody(json, body({ model: { name: 'models/x' } }), spec)).toEqual([]);
  });
});

describe('jsonStringsAt', () => {
  it('walks only the paths asked for, through strings with quotes and brackets', () => {
    const text = JSON.stringify({
      a: [{ t: 'x"]}{[' }, 1, true, null],
      requests: [{ model: 'm\\"1' }, { model: 'm2', x: [[{ model: 'no' }]] }],
      model: 'top',
    });
    expect(jsonStringsAt(text, ['requests[].model'])).toEqual(['m\\"1', 'm2']);
    expect(jsonStringsAt(text, ['model'])).toEqual(['top']);
    expect(jsonStringsAt('  [ {"model":"a"} ]  ', ['[].model'])).toEqual(['a']);
  });

  it('walks a large body quickly', () => {
    const requests = Array.from({ length: 20_000 }, (_, i) => ({
      model: 'models/gemini-embedding-001',
      content: { parts: [{ text: `text number ${i} `.repeat(10) }] },
    }));
    const text = JSON.stringify({ requests });
    const t0 = performance.now();
    const found = jsonStringsAt(text, ['requests[].model']);
    expect(found).toHaveLength(20_000);
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});
