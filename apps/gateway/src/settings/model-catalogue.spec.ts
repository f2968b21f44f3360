import { ModelCatalogue, withModel } from './model-catalogue';

describe('ModelCatalogue', () => {
  const cat = new ModelCatalogue({
    hiddenModels: ['gemini-secret', 'fast'],
    modelAliases: { fast: 'gemini-2.5-flash', pro: 'gemini-secret' },
    defaultModel: 'fast',
  });

  it('resolves aliases and refuses hidden models that are not aliases', () => {
    expect(cat.resolve('fast')).toBe('gemini-2.5-flash');
    expect(cat.resolve('gemini-2.5-pro')).toBe('gemini-2.5-pro');
    expect(cat.refuses('gemini-secret')).toBe(true);
    expect(cat.refuses('Gemini-Secret')).toBe(true);
    expect(cat.resolve('FAST')).toBe('gemini-2.5-flash');
    // an alias is an offer, whatever it points at
    expect(cat.refuses('fast')).toBe(false);
    expect(cat.refuses('gemini-2.5-flash')).toBe(false);
    expect(cat.defaultModel).toBe('fast');
  });

  it('lists without hidden models, and adds the aliases not hidden on the last page', () => {
    const page = {
      models: [
        { name: 'models/gemini-2.5-flash', displayName: 'Gemini 2.5 Flash', inputTokenLimit: 1 },
        { name: 'models/gemini-secret' },
      ],
    };
    const shown = cat.listPage(page)['models'] as { name: string }[];
    expect(shown.map((m) => m.name)).toEqual(['models/gemini-2.5-flash', 'models/pro']);
    // an alias whose model is on the page copies its entry
    const withAlias = new ModelCatalogue({
      hiddenModels: [],
      modelAliases: { f: 'gemini-2.5-flash' },
      defaultModel: '',
    });
    expect(withAlias.listPage(page)['models']).toContainEqual({
      name: 'models/f',
      displayName: 'f',
      inputTokenLimit: 1,
    });
    // not on the last page
    const first = withAlias.listPage({ ...page, nextPageToken: 't' })['models'] as unknown[];
    expect(first).toHaveLength(2);
  });

  it('is inactive when there is nothing to hide or resolve', () => {
    expect(new ModelCatalogue({ hiddenModels: [], modelAliases: {}, defaultModel: 'x' }).active).toBe(false);
  });
});

describe('withModel', () => {
  it('replaces the model segment, keeping the method and the prefix', () => {
    expect(withModel('/v1beta/models/fast:generateContent', 'gemini-2.5-flash', 'generateContent')).toBe(
      '/v1beta/models/gemini-2.5-flash:generateContent',
    );
    expect(withModel('/v1/models/fast', 'gemini-2.5-flash', null)).toBe('/v1/models/gemini-2.5-flash');
    expect(withModel('/upload/v1beta/models/fast:x', 'm', 'x')).toBe('/upload/v1beta/models/m:x');
  });
});
