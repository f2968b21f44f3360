import { canonicalPath, planRequest } from './request-plan';

const HOSTS = ['generativelanguage.googleapis.com', '127.0.0.1:9999'];
const json = (v: unknown): Buffer[] => [Buffer.from(JSON.stringify(v))];
const names = (method: string, url: string, body: Buffer[] | null = null): string[] =>
  planRequest(method, url, body, HOSTS)?.refs.map((r) => r.name) ?? [];

describe('planRequest: resources named by the path', () => {
  it('names files, cached contents, batches, stores, tuned models and operations', () => {
    expect(names('GET', '/v1beta/files/abc')).toEqual(['files/abc']);
    expect(names('GET', '/v1beta/files/abc:download?alt=media')).toEqual(['files/abc']);
    // Google's media path for the same bytes (a batch's results file)
    expect(names('GET', '/download/v1beta/files/abc:download?alt=media')).toEqual(['files/abc']);
    expect(names('GET', '/download/v1beta/files%2Fabc:download')).toEqual(['files/abc']);
    expect(names('PATCH', '/v1beta/cachedContents/xyz?updateMask=ttl')).toEqual(['cachedContents/xyz']);
    expect(names('POST', '/v1beta/batches/123:cancel')).toEqual(['batches/123']);
    expect(names('GET', '/v1/fileSearchStores/s1/documents/d1')).toEqual(['fileSearchStores/s1']);
    expect(names('POST', '/v1beta/tunedModels/t1:generateContent')).toEqual(['tunedModels/t1']);
    expect(names('GET', '/v1beta/tunedModels/t1/operations/o1')).toEqual(['tunedModels/t1']);
    expect(names('GET', '/v1beta/models/veo-3:x/operations/op1')).toEqual(['models/veo-3:x/operations/op1']);
    expect(names('POST', '/upload/v1beta/fileSearchStores/s1:uploadToFileSearchStore')).toEqual([
      'fileSearchStores/s1',
    ]);
  });

  it('reads the path as the upstream will: encoded slashes and colons, dot segments, doubled slashes, case', () => {
    expect(names('GET', '/v1beta/files%2Fabc')).toEqual(['files/abc']);
    expect(names('GET', '/v1beta/%66iles/abc')).toEqual(['files/abc']);
    expect(names('GET', '/v1beta/models/x/../../files/abc')).toEqual(['files/abc']);
    expect(names('GET', '/v1beta//files//abc')).toEqual(['files/abc']);
    expect(names('DELETE', '/v1beta/FILES/abc')).toEqual(['files/abc']);
    expect(names('GET', '/v1beta/cachedContents/x%3Aget')).toEqual(['cachedContents/x']);
    expect(canonicalPath('/a/./b/../c//d')).toBe('/a/c/d');
  });

  it('names an upload session by its upload_id, and never reads upload bytes', () => {
    const p = planRequest(
      'POST',
      '/upload/v1beta/files?upload_id=AB%2Bc&upload_protocol=resumable',
      json({ fileUri: 'files/zzz' }),
      HOSTS,
    );
    expect(p?.refs.map((r) => r.name)).toEqual(['upload:AB+c']);
    expect(p?.captures).toBe(true);
    expect(names('POST', '/upload/v1beta/files?upload_id=a&upload_id=b')).toEqual(['upload:a', 'upload:b']);
  });

  it('knows list calls, creates and deletes', () => {
    expect(planRequest('GET', '/v1beta/files?pageSize=2', null, HOSTS)).toMatchObject({
      list: 'file',
      version: 'v1beta',
      refs: [],
    });
    expect(planRequest('GET', '/v1beta/cachedContents', null, HOSTS)?.list).toBe('cachedContent');
    expect(planRequest('GET', '/v1beta/batches', null, HOSTS)?.list).toBe('batch');
    expect(planRequest('GET', '/v1/fileSearchStores', null, HOSTS)?.list).toBe('fileSearchStore');
    expect(planRequest('GET', '/v1beta/tunedModels', null, HOSTS)?.list).toBe('tunedModel');
    expect(planRequest('POST', '/v1beta/cachedContents', json({ model: 'models/m' }), HOSTS)).toMatchObject({
      captures: true,
      list: null,
    });
    expect(planRequest('POST', '/upload/v1beta/files', null, HOSTS)).toMatchObject({ captures: true, list: null });
    expect(planRequest('POST', '/v1beta/models/gemini-2.5-flash:batchGenerateContent', json({}), HOSTS)?.captures).toBe(
      true,
    );
    expect(planRequest('DELETE', '/v1beta/files/abc', null, HOSTS)?.deletes?.name).toBe('files/abc');
    expect(
      planRequest('POST', '/v1beta/fileSearchStores/s:importFile', json({ fileName: 'files/f' }), HOSTS)?.captures,
    ).toBe(true);
    // using a tuned model creates nothing: its (streamed) answer is relayed as it comes
    expect(
      planRequest('POST', '/v1beta/tunedModels/t:streamGenerateContent?alt=sse', json({ contents: [] }), HOSTS)
        ?.captures,
    ).toBe(false);
    expect(planRequest('DELETE', '/v1beta/fileSearchStores/s/documents/d', null, HOSTS)?.deletes).toBeNull();
    expect(planRequest('PATCH', '/v1beta/cachedContents/c', json({ ttl: '60s' }), HOSTS)?.updates?.name).toBe(
      'cachedContents/c',
    );
  });

  it('refuses Google’s OpenAI-compatible files and batches, whose owners it cannot know', () => {
    expect(planRequest('GET', '/v1beta/openai/files', null, HOSTS)?.unsupported).toBe('openai/files');
    expect(planRequest('POST', '/v1beta/openai/batches/b1/cancel', null, HOSTS)?.unsupported).toBe('openai/batches');
    expect(planRequest('GET', '/v1beta/generatedFiles', null, HOSTS)?.unsupported).toBe('generatedFiles');
    expect(planRequest('GET', '/v1beta/corpora/c1', null, HOSTS)?.unsupported).toBe('corpora');
    expect(
      planRequest('POST', '/v1beta/openai/chat/completions', json({ model: 'gemini-2.5-flash', messages: [] }), HOSTS),
    ).toBeNull();
    expect(
      planRequest(
        'POST',
        '/v1beta/openai/chat/completions',
        json({ extra_body: { google: { cached_content: 'cachedContents/c' } } }),
        HOSTS,
      )?.refs,
    ).toEqual([{ name: 'cachedContents/c', kind: 'cachedContent' }]);
  });

  it('leaves requests that name nothing owned alone', () => {
    expect(
      planRequest(
        'POST',
        '/v1beta/models/gemini-2.5-flash:generateContent',
        json({ contents: [{ parts: [{ text: 'files/abc' }] }] }),
        HOSTS,
      ),
    ).toBeNull();
    expect(planRequest('GET', '/v1beta/models', null, HOSTS)).toBeNull();
    expect(planRequest('GET', '/healthz', null, HOSTS)).toBeNull();
  });
});
