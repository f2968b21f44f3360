import { GoogleGenAI, type File as GenAiFile } from '@google/genai';
import OpenAI from 'openai';
import type { PoolKey, ResourceRecord } from '@gg/contracts';
import { startMockGemini, Stack, type MockGemini } from '@gg/testing';
import { createKey, createUser, loginSession } from './accounts-helpers';
import { fakeGeminiKey, poolKeys } from './helpers';

delete process.env.GOOGLE_GENAI_USE_VERTEXAI;
jest.setTimeout(120_000);

const MODEL = 'gemini-2.5-flash';

/** The SDK call fails as for a resource that does not exist: 404 NOT_FOUND. */
async function expectNotFound(p: Promise<unknown>): Promise<void> {
  await expect(p).rejects.toMatchObject({ status: 404 });
  await expect(p).rejects.toThrow(/NOT_FOUND/);
}

/**
 * Resource ownership on the data plane: two users, each with a user key of their own, share ONE pool key (so routing
 * cannot hide anything), and two gateway replicas. Whatever one user creates, the other cannot read, use, list,
 * change or delete; names the gateway has no record of are refused the same way, without an upstream call.
 */
describe('resource ownership (two users, one pool key, two replicas)', () => {
  let mock: MockGemini;
  let stack: Stack;
  let admin: string;
  let aliceId: string;
  let aliceKey: string;
  let bobKey: string;
  let alice: GoogleGenAI;
  let alice1: GoogleGenAI;
  let bob: GoogleGenAI;
  let bob1: GoogleGenAI;
  const poolKey = fakeGeminiKey();
  const client = (key: string, i: number) =>
    new GoogleGenAI({ apiKey: key, httpOptions: { baseUrl: stack.urlOf('gateway', i) } });
  /** what reached the upstream while `fn` ran */
  const upstreamDuring = async (fn: () => Promise<unknown>) => {
    const from = mock.requests.length;
    await fn();
    return mock.requests.slice(from);
  };
  const withFile = (uri: string, text: string) => ({
    model: MODEL,
    contents: [{ role: 'user', parts: [{ fileData: { fileUri: uri, mimeType: 'text/plain' } }, { text }] }],
  });

  beforeAll(async () => {
    mock = await startMockGemini();
    stack = await Stack.start({ geminiBaseUrl: mock.url, gateways: 2 });
    admin = await stack.login();
    expect((await stack.api(admin, 'POST', '/api/keys', { keys: [poolKey] })).status).toBe(201);
    const users = [];
    for (const name of ['alice', 'bob']) {
      const user = await createUser(stack, admin, name, `pw-${name}-0123456789`);
      const session = await loginSession(stack, name, `pw-${name}-0123456789`);
      users.push({ id: user.id, key: (await createKey(stack, session.token, { name: `${name}-key` })).key });
    }
    [{ id: aliceId, key: aliceKey }, { key: bobKey }] = users;
    alice = client(aliceKey, 0);
    alice1 = client(aliceKey, 1);
    bob = client(bobKey, 0);
    bob1 = client(bobKey, 1);
  });

  afterAll(async () => {
    await stack?.stop();
    await mock?.close();
  });

  let file: GenAiFile;

  it('files: get, use in a prompt, list, delete by the other user are refused; the owner is unaffected', async () => {
    file = await alice.files.upload({
      file: new Blob(['alice private notes']),
      config: { mimeType: 'text/plain', displayName: 'notes.txt' },
    });
    expect(file.name).toMatch(/^files\//);
    const refused = await upstreamDuring(async () => {
      for (const b of [bob, bob1]) {
        await expectNotFound(b.files.get({ name: file.name! }));
        await expectNotFound(b.models.generateContent(withFile(file.uri!, 'read it')));
        await expectNotFound(b.models.generateContent(withFile(file.name!, 'read it')));
        await expectNotFound(b.models.countTokens(withFile(file.uri!, 'count it')));
        await expectNotFound(b.files.delete({ name: file.name! }));
        const listed: string[] = [];
        for await (const f of await b.files.list({ config: { pageSize: 10 } })) listed.push(f.name!);
        expect(listed).toEqual([]);
      }
    });
    expect(refused).toEqual([]); // nothing of Bob's went upstream
    // the owner, on either replica
    for (const a of [alice, alice1]) {
      expect((await a.files.get({ name: file.name! })).sizeBytes).toBe(String('alice private notes'.length));
      expect((await a.models.generateContent(withFile(file.uri!, 'summarise'))).text).toContain('summarise');
      const listed: string[] = [];
      for await (const f of await a.files.list()) listed.push(f.name!);
      expect(listed).toEqual([file.name]);
    }
  });

  it('the error is Google’s 404 NOT_FOUND shape, the same for a name that does not exist, and nothing goes upstream', async () => {
    const gw = stack.urlOf('gateway', 0);
    const get = (name: string) => fetch(`${gw}/v1beta/${name}`, { headers: { 'x-goog-api-key': bobKey } });
    const unknown = 'files/doesnotexist1';
    const seen = await upstreamDuring(async () => {
      for (const name of [file.name!, unknown, 'cachedContents/nope', 'batches/nope']) {
        const r = await get(name);
        expect(r.status).toBe(404);
        expect(await r.json()).toEqual({
          error: { code: 404, status: 'NOT_FOUND', message: `Requested entity was not found: ${name}.` },
        });
      }
      // Alice too: a name the gateway has no record of (made outside it) is refused, whoever asks
      await expectNotFound(alice.files.get({ name: unknown }));
      await expectNotFound(
        alice.models.generateContent({
          model: MODEL,
          contents: 'hi',
          config: { cachedContent: 'cachedContents/made-elsewhere' },
        }),
      );
      await expectNotFound(
        alice.models.generateContent(withFile(`https://generativelanguage.googleapis.com/v1beta/${unknown}`, 'x')),
      );
      // path tricks are read as the upstream would read them (or refused as malformed paths)
      expect([400, 404]).toContain((await get(file.name!.replace('/', '%2F'))).status);
      expect([400, 404]).toContain((await get(`models/x/../../${file.name!}`)).status);
      expect((await get(file.name!.replace('files', 'Files'))).status).toBe(404);
      // project-wide lists the gateway keeps no owners for are refused, not passed through
      expect((await get('openai/files')).status).toBe(404);
      expect((await get('generatedFiles')).status).toBe(404);
      const upload = await fetch(`${gw}/upload/v1beta/files?upload_id=not-a-session`, {
        method: 'POST',
        headers: {
          'x-goog-api-key': aliceKey,
          'x-goog-upload-command': 'upload, finalize',
          'x-goog-upload-offset': '0',
        },
        body: 'bytes',
      });
      expect(upload.status).toBe(404);
    });
    expect(seen).toEqual([]);
  });

  it('upload sessions: another user cannot send bytes into one', async () => {
    const gw = stack.urlOf('gateway', 0);
    const start = await fetch(`${gw}/upload/v1beta/files`, {
      method: 'POST',
      headers: {
        'x-goog-api-key': aliceKey,
        'content-type': 'application/json',
        'x-goog-upload-protocol': 'resumable',
        'x-goog-upload-command': 'start',
        'x-goog-upload-header-content-length': '5',
        'x-goog-upload-header-content-type': 'text/plain',
      },
      body: JSON.stringify({ file: { displayName: 's.txt' } }),
    });
    expect(start.status).toBe(200);
    const url = start.headers.get('x-goog-upload-url')!.replace(gw, stack.urlOf('gateway', 1));
    const send = (key: string) =>
      fetch(url, {
        method: 'POST',
        headers: { 'x-goog-api-key': key, 'x-goog-upload-command': 'upload, finalize', 'x-goog-upload-offset': '0' },
        body: 'hello',
      });
    const seen = await upstreamDuring(async () => expect((await send(bobKey)).status).toBe(404));
    expect(seen).toEqual([]);
    const done = await send(aliceKey);
    expect(done.status).toBe(200);
    const made = ((await done.json()) as { file: { name: string } }).file.name;
    expect((await alice1.files.get({ name: made })).name).toBe(made);
    await expectNotFound(bob1.files.get({ name: made }));
    await alice.files.delete({ name: made });
  });

  it('cached contents: get, use, list, update, delete by the other user are refused; the owner is unaffected', async () => {
    const cache = await alice.caches.create({
      model: MODEL,
      config: { contents: [{ role: 'user', parts: [{ text: 'alice secret context '.repeat(10) }] }], ttl: '300s' },
    });
    expect(cache.name).toMatch(/^cachedContents\//);
    const refused = await upstreamDuring(async () => {
      for (const b of [bob, bob1]) {
        await expectNotFound(b.caches.get({ name: cache.name! }));
        await expectNotFound(
          b.models.generateContent({ model: MODEL, contents: 'what is in it?', config: { cachedContent: cache.name } }),
        );
        await expectNotFound(b.caches.update({ name: cache.name!, config: { ttl: '9999s' } }));
        await expectNotFound(b.caches.delete({ name: cache.name! }));
        const listed: string[] = [];
        for await (const c of await b.caches.list()) listed.push(c.name!);
        expect(listed).toEqual([]);
      }
    });
    expect(refused).toEqual([]);
    // the OpenAI-compatible route names a cached content in extra_body: the same rule holds there
    const openai = (key: string) =>
      new OpenAI({ apiKey: key, baseURL: `${stack.urlOf('gateway', 1)}/v1`, maxRetries: 0 });
    const viaOpenAi = (key: string) =>
      openai(key).chat.completions.create({
        model: MODEL,
        messages: [{ role: 'user', content: 'what is in it?' }],
        // @ts-expect-error: Gemini's extension of the OpenAI request
        extra_body: { google: { cached_content: cache.name } },
      });
    const openAiRefused = await upstreamDuring(() => expect(viaOpenAi(bobKey)).rejects.toMatchObject({ status: 404 }));
    expect(openAiRefused).toEqual([]);
    expect((await viaOpenAi(aliceKey)).choices[0].message.role).toBe('assistant');
    const r = await alice1.models.generateContent({
      model: MODEL,
      contents: 'question',
      config: { cachedContent: cache.name },
    });
    expect(r.usageMetadata?.cachedContentTokenCount).toBeGreaterThan(0);
    const updated = await alice1.caches.update({ name: cache.name!, config: { ttl: '600s' } });
    expect(Date.parse(updated.expireTime!)).toBeGreaterThan(Date.parse(cache.expireTime!));
    const listed: string[] = [];
    for await (const c of await alice.caches.list()) listed.push(c.name!);
    expect(listed).toEqual([cache.name]);
    await alice.caches.delete({ name: cache.name! });
    // a delete removes the record: the name is now unknown to the gateway, refused without an upstream call
    const after = await upstreamDuring(() => expectNotFound(alice.caches.get({ name: cache.name! })));
    expect(after).toEqual([]);
  });

  it('batches: get, list, cancel, delete by the other user are refused, and so is a batch over the other’s file', async () => {
    const input = await alice.files.upload({
      file: new Blob(['{"request":{}}\n']),
      config: { mimeType: 'application/jsonl', displayName: 'in.jsonl' },
    });
    const refusedCreate = await upstreamDuring(() =>
      expectNotFound(bob.batches.create({ model: MODEL, src: input.name! })),
    );
    expect(refusedCreate).toEqual([]);
    const job = await alice.batches.create({ model: MODEL, src: input.name!, config: { displayName: 'alice-batch' } });
    expect(job.name).toMatch(/^batches\//);
    const refused = await upstreamDuring(async () => {
      for (const b of [bob, bob1]) {
        await expectNotFound(b.batches.get({ name: job.name! }));
        await expectNotFound(b.batches.cancel({ name: job.name! }));
        await expectNotFound(b.batches.delete({ name: job.name! }));
        const listed: string[] = [];
        for await (const j of await b.batches.list()) listed.push(j.name!);
        expect(listed).toEqual([]);
      }
    });
    expect(refused).toEqual([]);
    const done = await alice1.batches.get({ name: job.name! });
    expect(done.state).toBe('JOB_STATE_SUCCEEDED');
    // the result file the batch made is the batch owner's
    const results = done.dest!.fileName!;
    expect(results).toMatch(/^files\//);
    expect((await alice.files.get({ name: results })).name).toBe(results);
    await expectNotFound(bob.files.get({ name: results }));
    const listed: string[] = [];
    for await (const j of await alice.batches.list()) listed.push(j.name!);
    expect(listed).toEqual([job.name]);
    await alice.batches.delete({ name: job.name! });
    await expectNotFound(alice.batches.get({ name: job.name! }));
  });

  it('admins see ownership, not content: resources by user, and a count per pool key', async () => {
    const r = await stack.api<ResourceRecord[]>(admin, 'GET', `/api/resources?userId=${aliceId}`);
    expect(r.status).toBe(200);
    const mine = r.body.find((x) => x.name === file.name);
    expect(mine).toMatchObject({ kind: 'file', userId: aliceId, sizeBytes: 'alice private notes'.length });
    expect(Date.parse(mine!.expiresAt!)).toBeGreaterThan(Date.now() + 47 * 3600_000);
    expect(JSON.stringify(r.body)).not.toContain('notes.txt');
    const keys: PoolKey[] = await poolKeys(stack, admin);
    expect(keys[0].resources).toBe(r.body.length);
    const bobSession = await loginSession(stack, 'bob', 'pw-bob-0123456789');
    expect((await stack.api(bobSession.token, 'GET', `/api/resources?userId=${aliceId}`)).status).toBe(403);
  });

  it('lists page across pool keys with Google’s pageSize and nextPageToken', async () => {
    expect((await stack.api(admin, 'POST', '/api/keys', { keys: [fakeGeminiKey(), fakeGeminiKey()] })).status).toBe(
      201,
    );
    const made: string[] = [];
    for await (const f of await alice.files.list()) made.push(f.name!);
    const from = mock.requests.length;
    const holders = () =>
      new Set(
        mock.requests
          .slice(from)
          .filter((x) => x.apiMethod === 'upload')
          .map((x) => x.key),
      );
    // until the new keys reached the replica, and the uploads went round the pool
    for (let i = 0; i < 20 && (i < 5 || holders().size < 3); i++) {
      made.push((await alice.files.upload({ file: new Blob([`f${i}`]), config: { mimeType: 'text/plain' } })).name!);
      // paces the probing uploads (each upload is the probe), not a wait for an event by itself
      if (i >= 5 && holders().size < 3) await new Promise((r) => setTimeout(r, 500));
    }
    expect(holders().size).toBe(3);
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const q = new URLSearchParams({ pageSize: '3', ...(token ? { pageToken: token } : {}) });
      const r = await fetch(`${stack.urlOf('gateway', pages % 2)}/v1beta/files?${q}`, {
        headers: { 'x-goog-api-key': aliceKey },
      });
      expect(r.status).toBe(200);
      const body = (await r.json()) as { files?: { name: string }[]; nextPageToken?: string };
      expect((body.files ?? []).length).toBeLessThanOrEqual(3);
      seen.push(...(body.files ?? []).map((f) => f.name));
      token = body.nextPageToken;
      pages++;
    } while (token && pages < 10);
    expect(pages).toBe(Math.ceil(made.length / 3));
    expect(seen.sort()).toEqual(made.sort());
    const sdk: string[] = [];
    for await (const f of await alice1.files.list({ config: { pageSize: 2 } })) sdk.push(f.name!);
    expect(sdk.sort()).toEqual(made.sort());
    for await (const f of await bob.files.list({ config: { pageSize: 2 } })) throw new Error(`bob sees ${f.name}`);
  });

  it('the records survive a gateway restart', async () => {
    await stack.signal('gateway', 'SIGTERM', 0);
    await stack.spawn('gateway', 0);
    const a = client(aliceKey, 0);
    const b = client(bobKey, 0);
    expect((await a.files.get({ name: file.name! })).name).toBe(file.name);
    await expectNotFound(b.files.get({ name: file.name! }));
    await b.files.list().then(async (pager) => {
      for await (const f of pager) throw new Error(`bob sees ${f.name}`);
    });
    await a.files.delete({ name: file.name! });
    const after = await upstreamDuring(() => expectNotFound(a.files.get({ name: file.name! })));
    expect(after).toEqual([]);
  });
});
