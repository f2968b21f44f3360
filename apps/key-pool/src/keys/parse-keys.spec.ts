import { parseKeyInput } from './parse-keys';

const k = (n: number) => `AIzaSyTestKey${String(n).padStart(26, '0')}`;

describe('parseKeyInput', () => {
  it('splits a string on newlines, commas and whitespace and drops empties', () => {
    const r = parseKeyInput(`${k(1)}\n${k(2)}, ${k(3)}\r\n\n  ${k(4)}\t${k(5)},,`);
    expect(r).toEqual({ keys: [k(1), k(2), k(3), k(4), k(5)], duplicates: 0, invalid: 0 });
  });

  it('accepts an array whose items may themselves hold several keys', () => {
    const r = parseKeyInput([k(1), ` ${k(2)} `, `${k(3)},${k(4)}`, '']);
    expect(r.keys).toEqual([k(1), k(2), k(3), k(4)]);
  });

  it('counts invalid keys: too short, too long, wrong characters', () => {
    const r = parseKeyInput(['short', 'x'.repeat(257), 'AIzaSy+not/base64url=chars', 'key.with.dots.inside.it', k(1)]);
    expect(r).toEqual({ keys: [k(1)], duplicates: 0, invalid: 4 });
  });

  it('accepts the boundary lengths 16 and 256', () => {
    expect(parseKeyInput(['a'.repeat(16), 'b'.repeat(256), 'c'.repeat(15)])).toEqual({
      keys: ['a'.repeat(16), 'b'.repeat(256)],
      duplicates: 0,
      invalid: 1,
    });
  });

  it('counts duplicates within the batch once each repeat, keeping the first', () => {
    const r = parseKeyInput(`${k(1)}\n${k(2)}\n${k(1)},${k(1)}`);
    expect(r).toEqual({ keys: [k(1), k(2)], duplicates: 2, invalid: 0 });
  });
});
