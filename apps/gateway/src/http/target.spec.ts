import { parseTarget } from './target';

describe('parseTarget: path, query and key', () => {
  it('finds version, model and method, keeps the query but the key', () => {
    const t = parseTarget('/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse&key=gg-secret&x=1');
    expect(t).toMatchObject({
      path: '/v1beta/models/gemini-2.5-flash:streamGenerateContent',
      query: 'alt=sse&x=1',
      queryKey: 'gg-secret',
      version: 'v1beta',
      upload: false,
      resource: 'models',
      model: 'gemini-2.5-flash',
      method: 'streamGenerateContent',
      sse: true,
      modelSource: 'named',
      bodyModels: null,
    });
  });

  it('reads percent-encoded segments as the upstream does (a colon, a letter, a plus kept as a plus)', () => {
    expect(parseTarget('/v1/models/gemini-2.5-pro%3AgenerateContent')).toMatchObject({
      model: 'gemini-2.5-pro',
      method: 'generateContent',
    });
    expect(parseTarget('/v1beta/%6dodels/gemini-2.5-%70ro:generateContent')).toMatchObject({
      resource: 'models',
      model: 'gemini-2.5-pro',
    });
    expect(parseTarget('/v1beta/models/a+b:generateContent').model).toBe('a+b');
    expect(parseTarget('/v1beta/models/bad%zz:generateContent').model).toBe('bad%zz');
  });

  it('matches collections without regard to case', () => {
    expect(parseTarget('/v1beta/MODELS/gemini-2.5-pro:generateContent')).toMatchObject({
      model: 'gemini-2.5-pro',
      modelSource: 'named',
    });
    expect(parseTarget('/v1beta/CachedContents', 'POST')).toMatchObject({ modelSource: 'body' });
  });

  it('marks tuned models apart from base models', () => {
    expect(parseTarget('/v1beta/tunedModels/my-model:generateContent')).toMatchObject({
      model: 'tunedModels/my-model',
      method: 'generateContent',
    });
    expect(parseTarget('/v1beta/tunedModels/gemini-2.5-flash', 'GET').model).toBe('tunedModels/gemini-2.5-flash');
  });

  it('takes the model of a path below it (operations of a model)', () => {
    expect(parseTarget('/v1beta/models/veo-3.0/operations/abc', 'GET')).toMatchObject({
      model: 'veo-3.0',
      method: null,
      modelSource: 'named',
    });
  });

  it('has no version off the API paths', () => {
    expect(parseTarget('/healthz', 'GET')).toMatchObject({ version: null, model: null, modelSource: 'named' });
  });
});

describe('parseTarget: which model a request runs, per route family', () => {
  it.each([
    // native model methods: the path names it
    ['POST', '/v1beta/models/gemini-2.5-flash:generateContent', 'named', 'gemini-2.5-flash', null],
    ['POST', '/v1/models/gemini-2.5-flash:embedContent', 'named', 'gemini-2.5-flash', null],
    ['POST', '/v1beta/models/imagen-4.0-generate-001:predict', 'named', 'imagen-4.0-generate-001', null],
    ['GET', '/v1beta/models/gemini-2.5-pro', 'named', 'gemini-2.5-pro', null],
    ['POST', '/v1beta/tunedModels/t1:generateContent', 'named', 'tunedModels/t1', null],
    // the path and the body
    [
      'POST',
      '/v1beta/models/gemini-embedding-001:batchEmbedContents',
      'body',
      'gemini-embedding-001',
      ['requests[].model'],
    ],
    [
      'POST',
      '/v1beta/models/gemini-2.5-flash:countTokens',
      'body',
      'gemini-2.5-flash',
      ['generateContentRequest.model'],
    ],
    [
      'POST',
      '/v1beta/models/gemini-2.5-flash:batchGenerateContent',
      'body',
      'gemini-2.5-flash',
      ['batch.model', 'batch.inputConfig.requests.requests[].request.model'],
    ],
    [
      'POST',
      '/v1beta/models/gemini-embedding-001:asyncBatchEmbedContent',
      'body',
      'gemini-embedding-001',
      ['batch.model', 'batch.inputConfig.requests.requests[].request.model'],
    ],
    // creates that name their model in the body
    ['POST', '/v1beta/cachedContents', 'body', null, ['model']],
    ['POST', '/v1beta/tunedModels', 'body', null, ['baseModel', 'tunedModelSource.tunedModel']],
    // Google's OpenAI layer
    ['POST', '/v1beta/openai/chat/completions', 'body', null, ['model']],
    ['POST', '/v1beta/openai/embeddings', 'body', null, ['model']],
    ['POST', '/v1beta/openai/images/generations', 'body', null, ['model']],
    ['GET', '/v1beta/openai/models/gemini-2.5-pro', 'named', 'gemini-2.5-pro', null],
    ['GET', '/v1beta/openai/models', 'none', null, null],
    ['POST', '/v1beta/openai/files', 'none', null, null],
    // no model by nature
    ['GET', '/v1beta/models', 'none', null, null],
    ['GET', '/v1beta/tunedModels', 'none', null, null],
    ['GET', '/v1beta/files', 'none', null, null],
    ['DELETE', '/v1beta/files/abc', 'none', null, null],
    ['GET', '/v1beta/files/abc:download', 'none', null, null],
    ['GET', '/download/v1beta/files/abc:download?alt=media', 'none', null, null],
    ['POST', '/upload/v1beta/files', 'none', null, null],
    ['PUT', '/upload/v1beta/files?upload_id=x', 'none', null, null],
    ['GET', '/v1beta/operations/op1', 'none', null, null],
    ['POST', '/v1beta/operations/op1:cancel', 'none', null, null],
    ['GET', '/v1beta/cachedContents', 'none', null, null],
    ['GET', '/v1beta/cachedContents/c1', 'none', null, null],
    ['PATCH', '/v1beta/cachedContents/c1', 'none', null, null],
    ['DELETE', '/v1beta/cachedContents/c1', 'none', null, null],
    ['GET', '/v1beta/batches', 'none', null, null],
    ['GET', '/v1beta/batches/b1', 'none', null, null],
    ['POST', '/v1beta/batches/b1:cancel', 'none', null, null],
    ['DELETE', '/v1beta/batches/b1', 'none', null, null],
    ['GET', '/v1beta/fileSearchStores', 'none', null, null],
    // cannot be determined: refused to a key with an allow-list
    ['POST', '/v1beta/models', 'named', null, null],
    ['POST', '/v1beta/authTokens', 'named', null, null],
    ['POST', '/v1beta/fileSearchStores/s1:importFile', 'named', null, null],
    ['POST', '/upload/v1beta/fileSearchStores/s1:uploadToFileSearchStore', 'named', null, null],
    ['PATCH', '/v1beta/batches/b1:updateGenerateContentBatch', 'named', null, null],
    ['POST', '/v1beta/cachedContents/c1:something', 'named', null, null],
  ])('%s %s → %s %s', (verb, url, source, model, fields) => {
    const t = parseTarget(url, verb);
    expect(t.modelSource).toBe(source);
    expect(t.model).toBe(model);
    expect(t.bodyModels?.fields ?? null).toEqual(fields);
  });

  it.each([
    ['POST', '/v1alpha/auth_tokens'],
    ['POST', '/v1beta/authTokens'],
    ['POST', '/v1/authTokens/'],
    ['GET', '/v1alpha/auth_tokens/t1'],
    ['POST', '/v1alpha/Auth_Tokens'],
    ['POST', '/v1alpha/auth%5Ftokens'],
    ['POST', '/upload/v1alpha/auth_tokens'],
    ['POST', '/v1alpha/auth_tokens:create?key=x'],
  ])('refuses Live API ephemeral tokens to every key: %s %s', (verb, url) => {
    expect(parseTarget(url, verb).refusal).toEqual({
      code: 403,
      status: 'PERMISSION_DENIED',
      message: 'Ephemeral tokens are not issued through this gateway: they would reach Google outside it.',
      reason: 'ephemeral tokens are not issued through this gateway',
    });
  });

  it('serves only a file download under /download/, for every key', () => {
    const served = parseTarget('/download/v1beta/files/abc:download?alt=media', 'GET');
    expect(served.refusal).toBeNull();
    expect(served.version).toBe('v1beta');
    expect(served.upload).toBe(false);
    expect(served.path).toBe('/download/v1beta/files/abc:download');
    for (const [verb, url] of [
      ['POST', '/download/v1beta/models/gemini-2.5-flash:generateContent'],
      ['GET', '/download/v1beta/files/abc'],
      ['DELETE', '/download/v1beta/files/abc:download'],
      ['GET', '/download/v1beta/batches/b1'],
      ['GET', '/download/v1beta/files/abc:download/more'],
      ['GET', '/download/v2/files/abc:download'],
      ['GET', '/download/files/abc:download'],
    ]) {
      expect(parseTarget(url, verb).refusal).toMatchObject({ code: 404, status: 'NOT_FOUND' });
    }
  });

  it('refuses nothing else', () => {
    for (const [verb, url] of [
      ['POST', '/v1beta/models/gemini-2.5-flash:generateContent'],
      ['GET', '/v1beta/files/auth_tokens'],
      ['POST', '/v1beta/cachedContents'],
      ['GET', '/v1beta/models/authTokens'],
      ['POST', '/v2/auth_tokens'],
    ]) {
      expect(parseTarget(url, verb).refusal).toBeNull();
    }
  });

  it('requires the model of creates and of the OpenAI layer, not the extra ones of model methods', () => {
    expect(parseTarget('/v1beta/cachedContents', 'POST').bodyModels?.required).toBe(true);
    expect(parseTarget('/v1beta/openai/chat/completions', 'POST').bodyModels?.required).toBe(true);
    expect(parseTarget('/v1beta/models/m:batchEmbedContents', 'POST').bodyModels?.required).toBe(false);
  });

  it('reads custom methods without regard to case for the body rule', () => {
    expect(parseTarget('/v1beta/models/m:BATCHEMBEDCONTENTS', 'POST').modelSource).toBe('body');
  });
});
