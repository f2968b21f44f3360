import { ApiError, GoogleGenAI } from '@google/genai';

import { startMockGemini, type MockGemini } from '@gg/testing';

const KEY = 'AIzaMockKeyOwnerA';
const OTHER = 'AIzaMockKeyOtherB';

let mock: MockGemini;

beforeAll(async () => {
  delete process.env.GOOGLE_GENAI_USE_VERTEXAI;
  mock = await startMockGemini();
});
afterAll(() => mock.close());
beforeEach(() => mock.reset());

const sdk = (apiKey = KEY): GoogleGenAI => new GoogleGenAI({ apiKey, httpOptions: { baseUrl: mock.url } });

async function status(p: Promise<unknown>): Promise<number | undefined> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  return e instanceof ApiError ? e.status : undefined;
}

describe('file search stores through the official SDK', () => {
  it('create, upload a document, import a file, list documents, delete: the creating key’s only', async () => {
    const store = await sdk().fileSearchStores.create({ config: { displayName: 'notes' } });
    expect(store).toMatchObject({ displayName: 'notes' });
    expect(store.name).toMatch(/^fileSearchStores\/[a-z0-9-]+$/);

    const uploaded = await sdk().fileSearchStores.uploadToFileSearchStore({
      fileSearchStoreName: store.name!,
      file: new Blob(['some text to search']),
      config: { mimeType: 'text/plain', displayName: 'a.txt' },
    });
    expect(uploaded.done).toBe(true);
    expect(uploaded.name).toMatch(new RegExp(`^${store.name}/upload/operations/`));
    const uploadedDoc = uploaded.response!.documentName!;
    expect(uploadedDoc).toMatch(new RegExp(`^${store.name}/documents/`));
    const start = mock.requests.find((r) => r.apiMethod === 'fileSearchStores.uploadToFileSearchStore')!;
    expect(start.path).toBe(`/upload/v1beta/${store.name}:uploadToFileSearchStore`);

    const file = await sdk().files.upload({ file: new Blob(['imported']), config: { mimeType: 'text/plain' } });
    const imported = await sdk().fileSearchStores.importFile({
      fileSearchStoreName: store.name!,
      fileName: file.name!,
    });
    expect(imported.done).toBe(true);
    const importedDoc = imported.response!.documentName!;
    const again = await sdk().operations.get({ operation: imported });
    expect((again.response as { documentName?: string } | undefined)?.documentName).toBe(importedDoc);

    const docs: string[] = [];
    for await (const d of await sdk().fileSearchStores.documents.list({ parent: store.name! })) docs.push(d.name!);
    expect(docs.sort()).toEqual([uploadedDoc, importedDoc].sort());
    expect(await sdk().fileSearchStores.documents.get({ name: uploadedDoc })).toMatchObject({
      displayName: 'a.txt',
      mimeType: 'text/plain',
      sizeBytes: String('some text to search'.length),
      state: 'STATE_ACTIVE',
    });
    expect((await sdk().fileSearchStores.get({ name: store.name! })).activeDocumentsCount).toBe('2');

    // another key: nothing of it, and its own file cannot go into the store
    const stores = async (key: string) => {
      const names: string[] = [];
      for await (const s of await sdk(key).fileSearchStores.list()) names.push(s.name!);
      return names;
    };
    expect(await stores(OTHER)).toEqual([]);
    expect(await stores(KEY)).toEqual([store.name]);
    expect(await status(sdk(OTHER).fileSearchStores.get({ name: store.name! }))).toBe(403);
    expect(await status(sdk(OTHER).fileSearchStores.documents.get({ name: uploadedDoc }))).toBe(403);
    expect(
      await status(sdk(OTHER).fileSearchStores.importFile({ fileSearchStoreName: store.name!, fileName: file.name! })),
    ).toBe(403);
    const otherFile = await sdk(OTHER).files.upload({ file: new Blob(['x']), config: { mimeType: 'text/plain' } });
    expect(
      await status(sdk().fileSearchStores.importFile({ fileSearchStoreName: store.name!, fileName: otherFile.name! })),
    ).toBe(403);
    expect(
      await status(
        sdk(OTHER).fileSearchStores.uploadToFileSearchStore({
          fileSearchStoreName: store.name!,
          file: new Blob(['x']),
          config: { mimeType: 'text/plain' },
        }),
      ),
    ).toBe(403);

    await sdk().fileSearchStores.documents.delete({ name: importedDoc });
    expect(await status(sdk().fileSearchStores.documents.get({ name: importedDoc }))).toBe(404);
    // a store with documents goes only with force
    expect(await status(sdk().fileSearchStores.delete({ name: store.name! }))).toBe(400);
    await sdk().fileSearchStores.delete({ name: store.name!, config: { force: true } });
    expect(await status(sdk().fileSearchStores.get({ name: store.name! }))).toBe(403);
  });
});
