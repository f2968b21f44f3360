import { canonicalUrl } from './target-path';

describe('canonicalUrl', () => {
  it.each([
    // plain and percent-encoded dot-segments, any case, any position
    '/v1beta/models/gemini-2.5-flash/../gemini-2.5-pro:generateContent',
    '/v1beta/models/gemini-2.5-flash/./../gemini-2.5-pro:generateContent',
    '/v1beta/models/./gemini-2.5-pro:generateContent',
    '/v1beta/models/gemini-2.5-flash/%2e%2e/gemini-2.5-pro:generateContent',
    '/v1beta/models/gemini-2.5-flash/%2E%2E/gemini-2.5-pro:generateContent',
    '/v1beta/models/gemini-2.5-flash/.%2e/gemini-2.5-pro:generateContent',
    '/v1beta/models/gemini-2.5-flash/%2E./gemini-2.5-pro:generateContent',
    '/v1beta/models/gemini-2.5-flash/%2e/gemini-2.5-pro:generateContent',
    '/v1beta/models/x/..',
    '/v1beta/models/x/%2e%2e',
    '/v1beta/models/..:generateContent',
    '/v1beta/models/%2e%2e%3AgenerateContent',
    '/./v1beta/models/gemini-2.5-pro:generateContent',
    '/../v1beta/models',
    '//../v1beta/models',
    // encoded slashes and backslashes
    '/v1beta/models/gemini-2.5-flash%2F..%2Fgemini-2.5-pro:generateContent',
    '/v1beta/models/gemini-2.5-flash%2f..%2fgemini-2.5-pro:generateContent',
    '/v1beta/models/gemini-2.5-flash%5C..%5Cgemini-2.5-pro:generateContent',
    '/v1beta/models/gemini-2.5-flash%5c..%5cgemini-2.5-pro:generateContent',
    '/v1beta/models/gemini-2.5-flash\\..\\gemini-2.5-pro:generateContent',
    '/v1beta/models\\gemini-2.5-pro:generateContent',
    // empty segments inside the path
    '/v1beta//models/gemini-2.5-pro:generateContent',
    '/v1beta/models//gemini-2.5-pro:generateContent',
    '/v1beta/models/gemini-2.5-flash//gemini-2.5-pro:generateContent',
  ])('refuses %s', (url) => expect(canonicalUrl(url)).toBeNull());

  it.each([
    ['/v1beta/models/gemini-2.5-flash:generateContent', '/v1beta/models/gemini-2.5-flash:generateContent'],
    ['/v1beta/models/imagen-4.0-generate-001:predict', '/v1beta/models/imagen-4.0-generate-001:predict'],
    ['/v1beta/models/gemini-2.5-pro%3AgenerateContent', '/v1beta/models/gemini-2.5-pro%3AgenerateContent'],
    ['/v1beta/files/.hidden', '/v1beta/files/.hidden'],
    ['/v1beta/files/...', '/v1beta/files/...'],
    ['/v1beta/files/a..b', '/v1beta/files/a..b'],
    ['/v1/models/', '/v1/models/'],
    // leading doubled slashes are folded (the SDK's `//ws/…`)
    ['//v1beta/models/gemini-2.5-flash:generateContent', '/v1beta/models/gemini-2.5-flash:generateContent'],
    ['///v1beta/models?pageSize=2', '/v1beta/models?pageSize=2'],
    [
      '//ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent?key=k',
      '/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent?key=k',
    ],
    // the query is not a path
    ['/v1beta/files?pageToken=a/../b%2F%5C//', '/v1beta/files?pageToken=a/../b%2F%5C//'],
    ['/v1beta/models/x:generateContent?q=\\', '/v1beta/models/x:generateContent?q=\\'],
    // not origin-form: left to routing (404)
    ['*', '*'],
    ['http://h/v1beta/../x', 'http://h/v1beta/../x'],
  ])('keeps %s as %s', (url, expected) => expect(canonicalUrl(url)).toBe(expected));

  it('returns the very same string on the hot path', () => {
    const url = '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse';
    expect(canonicalUrl(url)).toBe(url);
  });
});
