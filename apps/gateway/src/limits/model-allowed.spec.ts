import { declareModelSource, modelAllowed, modelSourceOf, normalModel } from './model-allowed';

describe('modelAllowed', () => {
  it('lets any model through without a list', () => {
    expect(modelAllowed(null, 'gemini-2.5-pro')).toBe(true);
    expect(modelAllowed(undefined, 'gemini-2.5-pro')).toBe(true);
    expect(modelAllowed(null, null)).toBe(true);
  });

  it('fails closed: a request whose model is unknown is refused to a key with a list', () => {
    expect(modelAllowed(['gemini-2.5-flash'], null)).toBe(false);
  });

  it('matches ids exactly, or by a prefix ending in *', () => {
    const list = ['gemini-2.5-flash', 'gemini-embedding-*'];
    expect(modelAllowed(list, 'gemini-2.5-flash')).toBe(true);
    expect(modelAllowed(list, 'models/gemini-2.5-flash')).toBe(true);
    expect(modelAllowed(list, 'gemini-2.5-flash-lite')).toBe(false);
    expect(modelAllowed(list, 'gemini-2.5-pro')).toBe(false);
    expect(modelAllowed(list, 'gemini-embedding-001')).toBe(true);
  });

  it('compares without models/ and without regard to case, on both sides', () => {
    expect(modelAllowed(['Gemini-2.5-Flash'], 'models/gemini-2.5-flash')).toBe(true);
    expect(modelAllowed(['models/gemini-2.5-flash'], 'GEMINI-2.5-FLASH')).toBe(true);
    expect(modelAllowed(['gemini-2.5-*'], 'MODELS/GEMINI-2.5-PRO')).toBe(true);
    expect(modelAllowed(['gemini-2.5-flash'], 'GEMINI-2.5-PRO')).toBe(false);
  });

  it('never matches what is not a plain model id: paths, tuned models, odd characters', () => {
    const list = ['gemini-2.5-*'];
    expect(modelAllowed(list, 'gemini-2.5-flash/../gemini-3-pro')).toBe(false);
    expect(modelAllowed(list, 'gemini-2.5-flash:x')).toBe(false);
    expect(modelAllowed(list, 'gemini-2.5-flash%2F')).toBe(false);
    expect(modelAllowed(list, 'gemini-2.5-flash ')).toBe(true); // trimmed, as a pasted id
    expect(modelAllowed(['my-tuned'], 'tunedModels/my-tuned')).toBe(false);
    expect(modelAllowed(list, '')).toBe(false);
  });

  it('normalises ids', () => {
    expect(normalModel('models/Gemini-2.5-Pro')).toBe('gemini-2.5-pro');
    expect(normalModel('tunedModels/x')).toBe('tunedmodels/x');
  });
});

describe('declared model sources', () => {
  it('are named unless a route says otherwise', () => {
    const a = {};
    const b = {};
    const c = {};
    declareModelSource(b, 'body');
    declareModelSource(c, 'none');
    expect([modelSourceOf(a), modelSourceOf(b), modelSourceOf(c)]).toEqual(['named', 'body', 'none']);
  });
});
