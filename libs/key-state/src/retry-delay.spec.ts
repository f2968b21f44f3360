import { headerValue, parseDurationMs, parseRetryAfterMs } from './retry-delay';

describe('parseDurationMs', () => {
  it.each([
    ['47s', 47_000],
    ['3.2s', 3200],
    ['.5s', 500],
    ['500ms', 500],
    [' 10S ', 10_000],
    ['1.5', 1500],
    ['1h', 3_600_000],
    [2, 2000],
  ])('%p -> %p ms', (input, ms) => expect(parseDurationMs(input)).toBe(ms));

  it.each([['soon'], [''], ['-1s'], ['1.2.3s'], [null], [{}], [NaN]])('%p is not a duration', (input) => {
    expect(parseDurationMs(input)).toBeUndefined();
  });
});

describe('parseRetryAfterMs', () => {
  it('reads seconds and HTTP dates; a date in the past is 0', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfterMs('30', now)).toBe(30_000);
    expect(parseRetryAfterMs('Wed, 01 Jan 2025 00:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfterMs('Tue, 31 Dec 2024 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfterMs('garbage', now)).toBeUndefined();
    expect(parseRetryAfterMs(undefined, now)).toBeUndefined();
  });
});

describe('headerValue', () => {
  it('is case-insensitive and takes the first of repeated values', () => {
    expect(headerValue({ 'Retry-After': ['1', '2'] }, 'retry-after')).toBe('1');
    expect(headerValue(undefined, 'x')).toBeUndefined();
  });
});
