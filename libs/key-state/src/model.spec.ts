import { normalizeModel } from './model';

describe('normalizeModel', () => {
  it('drops the models/ prefix; empty means no model', () => {
    expect(normalizeModel('models/gemini-2.5-flash')).toBe('gemini-2.5-flash');
    expect(normalizeModel('gemini-2.5-flash')).toBe('gemini-2.5-flash');
    expect(normalizeModel('')).toBeNull();
    expect(normalizeModel(null)).toBeNull();
  });
});
