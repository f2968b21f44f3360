import { bodyReferences, fileRef, mayRefer } from './body-references';

const HOSTS = ['generativelanguage.googleapis.com', '127.0.0.1:9999'];
const refs = (v: unknown, chunks = 1): string[] => {
  const b = Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));
  const size = Math.ceil(b.length / chunks);
  const parts = Array.from({ length: chunks }, (_, i) => b.subarray(i * size, (i + 1) * size));
  return bodyReferences(parts, HOSTS).map((r) => r.name);
};

describe('bodyReferences', () => {
  it('finds file URIs (full URIs and plain names, both spellings)', () => {
    const body = {
      contents: [
        {
          parts: [
            {
              fileData: {
                fileUri: 'https://generativelanguage.googleapis.com/v1beta/files/abc',
                mimeType: 'text/plain',
              },
            },
          ],
        },
        { parts: [{ file_data: { file_uri: 'files/def' } }, { text: 'hi' }] },
      ],
    };
    expect(refs(body)).toEqual(['files/abc', 'files/def']);
  });

  it('ignores URLs that are not files of the upstream', () => {
    expect(
      refs({ contents: [{ parts: [{ fileData: { fileUri: 'https://www.youtube.com/watch?v=files/abc' } }] }] }),
    ).toEqual([]);
    expect(fileRef('https://generativelanguage.googleapis.com/v1beta/files/abc:download?alt=media', HOSTS)?.name).toBe(
      'files/abc',
    );
    expect(fileRef('http://127.0.0.1:9999/v1/files/q', HOSTS)?.name).toBe('files/q');
  });

  it('finds cached contents, batch input files, file search stores and tuned models', () => {
    expect(refs({ contents: [], cachedContent: 'cachedContents/c1' })).toEqual(['cachedContents/c1']);
    expect(refs({ cached_content: 'c2' })).toEqual(['cachedContents/c2']);
    expect(refs({ batch: { inputConfig: { fileName: 'files/in1' } } })).toEqual(['files/in1']);
    expect(refs({ batch: { input_config: { file_name: 'files/in2' } } })).toEqual(['files/in2']);
    expect(
      refs({
        batch: { inputConfig: { requests: { requests: [{ request: { cachedContent: 'cachedContents/c3' } }] } } },
      }),
    ).toEqual(['cachedContents/c3']);
    expect(
      refs({ tools: [{ fileSearch: { fileSearchStoreNames: ['fileSearchStores/s1', 'fileSearchStores/s2'] } }] }),
    ).toEqual(['fileSearchStores/s1', 'fileSearchStores/s2']);
    expect(refs({ tools: [{ file_search: { file_search_store_names: ['fileSearchStores/s3'] } }] })).toEqual([
      'fileSearchStores/s3',
    ]);
    expect(refs({ model: 'tunedModels/t1', contents: [] })).toEqual(['tunedModels/t1']);
  });

  it('is not fooled by JSON escapes or chunk boundaries', () => {
    expect(refs('{"contents":[{"parts":[{"fileData":{"file\\u0055ri":"files/esc"}}]}]}')).toEqual(['files/esc']);
    expect(refs({ contents: [{ parts: [{ fileData: { fileUri: 'files/split' } }] }] }, 7)).toEqual(['files/split']);
  });

  it('finds a name split across a chunk seam at any byte, escaped or not', () => {
    for (const text of [
      '{"contents":[],"cachedContent":"cachedContents/seam"}',
      '{"contents":[],"cached\\u0043ontent":"cachedContents/seam"}',
    ]) {
      const b = Buffer.from(text);
      for (let cut = 1; cut < b.length; cut++) {
        const got = bodyReferences([b.subarray(0, cut), b.subarray(cut)], HOSTS).map((r) => r.name);
        expect({ cut, got }).toEqual({ cut, got: ['cachedContents/seam'] });
      }
      // one byte per chunk: every seam at once
      expect(
        bodyReferences(
          Array.from(b, (x) => Buffer.from([x])),
          HOSTS,
        ).map((r) => r.name),
      ).toEqual(['cachedContents/seam']);
    }
  });

  it('leaves a body with no candidate unparsed: inline data, escaped newlines and quotes in a prompt', () => {
    const inline = {
      contents: [
        {
          parts: [
            { text: 'line one\nline "two"\n\tthree' },
            { inlineData: { mimeType: 'image/png', data: 'QUJD'.repeat(1000) } },
          ],
        },
      ],
    };
    const b = Buffer.from(JSON.stringify(inline));
    expect(mayRefer([b])).toBe(false);
    expect(mayRefer([b.subarray(0, 20), b.subarray(20, 41), b.subarray(41)])).toBe(false);
    // a string that spells a marker through escapes is a candidate; an unreadable escape is left to the parser
    expect(mayRefer([Buffer.from('{"\\u0066ile":1}')])).toBe(true);
    expect(mayRefer([Buffer.from('{"tuned\\u004dodels":1}')])).toBe(true);
    expect(mayRefer([Buffer.from('{"\\u00zz":1}')])).toBe(true);
    expect(mayRefer([Buffer.from('{"files":1}'), Buffer.from('')])).toBe(true);
  });

  it('reads a body that is not JSON loosely, and a prompt that only mentions a name not at all', () => {
    expect(refs('{"cachedContent": "cachedContents/broken"')).toEqual(['cachedContents/broken']);
    expect(refs({ contents: [{ parts: [{ text: 'please read files/abc and cachedContents/x' }] }] })).toEqual([]);
  });
});
