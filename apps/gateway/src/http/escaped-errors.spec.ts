import { describeEscaped } from './escaped-errors';

describe('describeEscaped', () => {
  it('keeps the error name, code and first frames, and masks anything shaped like a key', () => {
    const e = Object.assign(new TypeError('bad header for AIzaSyA1234567890abcdefghijklmnop and gg-abcdefghijklmnopqrstuvwxyz012'), { code: 'ERR_X' });
    const text = describeEscaped(e);
    expect(text).toContain('TypeError: bad header for AIza…');
    expect(text).toContain('gg-a…');
    expect(text).toContain('[ERR_X]');
    expect(text).not.toMatch(/AIzaSyA1234567890|gg-abcdefghijklmnop/);
  });

  it('describes a rejection with a value that is not an Error', () => {
    expect(describeEscaped('plain')).toBe('plain');
    expect(describeEscaped(undefined)).toBe('undefined');
  });
});
