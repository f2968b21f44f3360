import { GoogleGenAI } from '@google/genai';
import { startMockGemini, Stack, type MockGemini } from '@gg/testing';
import { createKey, createUser, loginSession } from './accounts-helpers';
import { fakeGeminiKey } from './helpers';

delete process.env.GOOGLE_GENAI_USE_VERTEXAI;
jest.setTimeout(120_000);

/** The SDK call fails as for a resource that does not exist: 404 NOT_FOUND. */
async function expectNotFound(p: Promise<unknown>): Promise<void> {
  await expect(p).rejects.toMatchObject({ status: 404 });
  await expect(p).rejects.toThrow(/NOT_FOUND/);
}

/**
 * File search stores with the official SDK through two gateway replicas over three pool keys: the store, its
 * documents and its operations are its creator's, on the key that created it; another user gets 404, nothing upstream.
 */
describe('file search stores through the gateway (two users, three pool keys, two replicas)', () => {
  let mock: MockGemini;
  let stack: Stack;
  let alice: GoogleGenAI[];
  let bob: GoogleGenAI[];
  const pool = Array.from({ length: 3 }, () => fakeGeminiKey());
  const client = (key: string, i: number) =>
    new GoogleGenAI({ apiKey: key, httpOptions: { baseUrl: stack.urlOf('gateway', i) } });
  const keysNaming = (name: string) =>
    new Set(mock.requests.filter((r) => r.path.includes(name) || r.bodyText.includes(name)).map((r) => r.key));
  const stores = async (ai: GoogleGenAI) => {
    const names: string[] = [];
    for await (const s of await ai.fileSearchStores.list()) names.push(s.name!);
    return names;
  };

  beforeAll(async () => {
    mock = await startMockGemini();
    stack = await Stack.start({ geminiBaseUrl: mock.url, gateways: 2 });
    const admin = await stack.login();
    expect((await stack.api(admin, 'POST', '/api/keys', { keys: pool })).status).toBe(201);
    const keys: string[] = [];
    for (const name of ['alice', 'bob']) {
      await createUser(stack, admin, name, `pw-${name}-0123456789`);
      const session = await loginSession(stack, name, `pw-${name}-0123456789`);
      keys.push((await createKey(stack, session.token, { name: `${name}-key` })).key);
    }
    alice = [client(keys[0], 0), client(keys[0], 1)];
    bob = [client(keys[1], 0), client(keys[1], 1)];
  });

  afterAll(async () => {
    await stack?.stop();
    await mock?.close();
  });

  it('the creator uploads, imports, lists and deletes on either replica; the other user sees nothing', async () => {
    const store = await alice[0].fileSearchStores.create({ config: { displayName: 'alice-store' } });
    const uploaded = await alice[1].fileSearchStores.uploadToFileSearchStore({
      fileSearchStoreName: store.name!,
      file: new Blob(['alice searchable text']),
      config: { mimeType: 'text/plain', displayName: 'a.txt' },
    });
    const doc = uploaded.response!.documentName!;
    const file = await alice[1].files.upload({ file: new Blob(['imported']), config: { mimeType: 'text/plain' } });
    const imported = await alice[0].fileSearchStores.importFile({
      fileSearchStoreName: store.name!,
      fileName: file.name!,
    });
    expect((await alice[1].operations.get({ operation: imported })).done).toBe(true);
    const docs: string[] = [];
    for await (const d of await alice[1].fileSearchStores.documents.list({ parent: store.name! })) docs.push(d.name!);
    expect(docs).toContain(doc);
    expect(docs).toHaveLength(2);
    expect(await stores(alice[1])).toEqual([store.name]);

    const from = mock.requests.length;
    for (const b of bob) {
      await expectNotFound(b.fileSearchStores.get({ name: store.name! }));
      await expectNotFound(b.fileSearchStores.documents.get({ name: doc }));
      await expectNotFound(b.fileSearchStores.documents.delete({ name: doc }));
      await expectNotFound(b.fileSearchStores.delete({ name: store.name!, config: { force: true } }));
      await expectNotFound(b.fileSearchStores.importFile({ fileSearchStoreName: store.name!, fileName: file.name! }));
      await expectNotFound(
        b.fileSearchStores.uploadToFileSearchStore({
          fileSearchStoreName: store.name!,
          file: new Blob(['bob']),
          config: { mimeType: 'text/plain' },
        }),
      );
      expect(await stores(b)).toEqual([]);
    }
    expect(mock.requests.slice(from)).toEqual([]);

    // everything about the store went to the one key that created it
    expect(keysNaming(store.name!).size).toBe(1);
    // the replica that deleted it forgets it at once (another replica's local cache may hold the record up to a
    // minute: the owner's request then reaches the upstream, which no longer has the store)
    await alice[1].fileSearchStores.delete({ name: store.name!, config: { force: true } });
    await expectNotFound(alice[1].fileSearchStores.get({ name: store.name! }));
  });
});
