import { modelAllowed } from './model-allowed';

describe('modelAllowed', () => {
  it('lets anything through without a list, and requests that name no model', () => {
    expect(modelAllowed(null, 'gemini-2.5-pro')).toBe(true);
    expect(modelAllowed(undefined, 'gemini-2.5-pro')).toBe(true);
    expect(modelAllowed(['gemini-2.5-flash'], null)).toBe(true);
  });

  it('matches ids exactly, or by a prefix ending in *', () => {
    const list = ['gemini-2.5-flash', 'gemini-embedding-*'];
    expect(modelAllowed(list, 'gemini-2.5-flash')).toBe(true);
    expect(modelAllowed(list, 'models/gemini-2.5-flash')).toBe(true);
    expect(modelAllowed(list, 'gemini-2.5-flash-lite')).toBe(false);
    expect(modelAllowed(list, 'gemini-2.5-pro')).toBe(false);
    expect(modelAllowed(list, 'gemini-embedding-001')).toBe(true);
  });
});
