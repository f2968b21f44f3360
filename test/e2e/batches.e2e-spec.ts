import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { GoogleGenAI, type BatchJob } from '@google/genai';
import { poll, startMockGemini, Stack, type MockGemini } from '@gg/testing';
import { createKey, createUser, loginSession } from './accounts-helpers';
import { fakeGeminiKey } from './helpers';

delete process.env.GOOGLE_GENAI_USE_VERTEXAI;
jest.setTimeout(120_000);

const MODEL = 'gemini-2.5-flash';
const ask = (text: string) => ({ contents: [{ role: 'user', parts: [{ text }] }] });

/** The SDK call fails as for a resource that does not exist: 404 NOT_FOUND. */
async function expectNotFound(p: Promise<unknown>): Promise<void> {
  await expect(p).rejects.toMatchObject({ status: 404 });
  await expect(p).rejects.toThrow(/NOT_FOUND/);
}

/**
 * Batch mode with the official SDK through two gateway replicas over a pool of three keys: a batch (and its results
 * file) is its creator's, reached on the pool key that created it whatever replica is asked, and unknown to anyone
 * else. The mock finishes a batch on its third read (RUNNING before), so polling is deterministic.
 */
describe('batches through the gateway (two users, three pool keys, two replicas)', () => {
  let mock: MockGemini;
  let stack: Stack;
  let dir: string;
  let alice: GoogleGenAI[];
  let bob: GoogleGenAI[];
  let aliceKey: string;
  let bobKey: string;
  const pool = Array.from({ length: 3 }, () => fakeGeminiKey());
  const client = (key: string, i: number) =>
    new GoogleGenAI({ apiKey: key, httpOptions: { baseUrl: stack.urlOf('gateway', i) } });
  /** the pool keys of the upstream requests naming `name` (path or body) */
  const keysNaming = (name: string) =>
    new Set(mock.requests.filter((r) => r.path.includes(name) || r.bodyText.includes(name)).map((r) => r.key));
  const upstreamDuring = async (fn: () => Promise<unknown>) => {
    const from = mock.requests.length;
    await fn();
    return mock.requests.slice(from);
  };
  const pollDone = (ai: GoogleGenAI, name: string) =>
    poll(
      () => ai.batches.get({ name }),
      (j: BatchJob) => j.state === 'JOB_STATE_SUCCEEDED',
      20_000,
      `${name} SUCCEEDED`,
    );
  const listed = async (ai: GoogleGenAI) => {
    const names: string[] = [];
    for await (const j of await ai.batches.list()) names.push(j.name!);
    return names.sort();
  };
  const media = (gateway: number, file: string, key: string) =>
    fetch(`${stack.urlOf('gateway', gateway)}/download/v1beta/${file}:download?alt=media`, {
      headers: { 'x-goog-api-key': key },
    });

  beforeAll(async () => {
    mock = await startMockGemini({ batchReadsToFinish: 3 });
    stack = await Stack.start({ geminiBaseUrl: mock.url, gateways: 2 });
    const admin = await stack.login();
    expect((await stack.api(admin, 'POST', '/api/keys', { keys: pool })).status).toBe(201);
    const keys: string[] = [];
    for (const name of ['alice', 'bob']) {
      await createUser(stack, admin, name, `pw-${name}-0123456789`);
      const session = await loginSession(stack, name, `pw-${name}-0123456789`);
      keys.push((await createKey(stack, session.token, { name: `${name}-key` })).key);
    }
    [aliceKey, bobKey] = keys;
    alice = [client(aliceKey, 0), client(aliceKey, 1)];
    bob = [client(bobKey, 0), client(bobKey, 1)];
    dir = await mkdtemp(join(tmpdir(), 'gg-batches-'));
  });

  afterAll(async () => {
    await stack?.stop();
    await mock?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  let inline: BatchJob;
  let fromFile: BatchJob;
  let results: string;

  it('inline requests: created on replica 1, polled on replica 2 until SUCCEEDED, answers read back', async () => {
    inline = await alice[0].batches.create({
      model: MODEL,
      src: [ask('what is one'), ask('what is two')],
      config: { displayName: 'inline' },
    });
    expect(inline).toMatchObject({ state: 'JOB_STATE_PENDING', displayName: 'inline' });
    const done = await pollDone(alice[1], inline.name!);
    const texts = done.dest!.inlinedResponses!.map((r) => r.response?.candidates?.[0]?.content?.parts?.[0]?.text);
    expect(texts).toEqual(['echo: what is one', 'echo: what is two']);
    // every upstream call about the batch (the create, the RUNNING reads, the last) went to one pool key
    expect(mock.requests.filter((r) => r.apiMethod === 'batches.get').length).toBeGreaterThanOrEqual(3);
    expect(keysNaming(inline.name!).size).toBe(1);
  });

  it('file input: the results file downloads through either replica, the same bytes the upstream made', async () => {
    const input = await alice[1].files.upload({
      file: new Blob([
        [
          { key: 'k1', request: ask('alpha') },
          { key: 'k2', request: ask('beta') },
        ]
          .map((l) => JSON.stringify(l))
          .join('\n'),
      ]),
      config: { mimeType: 'application/jsonl', displayName: 'in.jsonl' },
    });
    fromFile = await alice[0].batches.create({ model: MODEL, src: input.name! });
    const done = await pollDone(alice[1], fromFile.name!);
    results = done.dest!.fileName!;
    expect(results).toMatch(/^files\//);

    // the upstream's own bytes, asked for on the key that made them
    const [owner] = keysNaming(fromFile.name!);
    const direct = await fetch(`${mock.url}/v1beta/${results}:download?alt=media`, {
      headers: { 'x-goog-api-key': owner },
    });
    expect(direct.status).toBe(200);
    const made = await direct.text();
    expect(
      made
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).key),
    ).toEqual(['k1', 'k2']);
    expect(made).toContain('echo: alpha');

    for (const i of [0, 1]) {
      const path = join(dir, `results-${i}.jsonl`);
      await alice[i].files.download({ file: results, downloadPath: path }); // GET /v1beta/files/{id}:download
      expect(await readFile(path, 'utf8')).toBe(made);
      const viaMedia = await media(i, results, aliceKey); // Google's media path
      expect(viaMedia.status).toBe(200);
      expect(await viaMedia.text()).toBe(made);
    }
    // the input, the batch, its reads and its result downloads: all on the key that created the batch
    expect(keysNaming(input.name!)).toEqual(new Set([owner]));
    expect(keysNaming(fromFile.name!)).toEqual(new Set([owner]));
    expect(keysNaming(results)).toEqual(new Set([owner]));
    expect(mock.requests.filter((r) => r.apiMethod === 'files.download' && r.key !== owner)).toEqual([]);
  });

  it('another user cannot get, cancel, delete, list or download: 404, nothing upstream', async () => {
    const refused = await upstreamDuring(async () => {
      for (const b of bob) {
        for (const job of [inline, fromFile]) {
          await expectNotFound(b.batches.get({ name: job.name! }));
          await expectNotFound(b.batches.cancel({ name: job.name! }));
          await expectNotFound(b.batches.delete({ name: job.name! }));
        }
        await expectNotFound(b.files.download({ file: results, downloadPath: join(dir, 'bob.jsonl') }));
        expect(await listed(b)).toEqual([]);
      }
      for (const i of [0, 1]) {
        const r = await media(i, results, bobKey);
        expect(r.status).toBe(404);
        expect(((await r.json()) as { error: unknown }).error).toMatchObject({ code: 404, status: 'NOT_FOUND' });
      }
    });
    expect(refused).toEqual([]);
    // the owner is unaffected, and lists her own batches only
    for (const a of alice) {
      expect((await a.batches.get({ name: inline.name! })).state).toBe('JOB_STATE_SUCCEEDED');
      expect(await listed(a)).toEqual([inline.name!, fromFile.name!].sort());
    }
  });

  it('Bob’s own batch is his: each user lists only their own, and the owner cancels and deletes hers', async () => {
    const his = await bob[1].batches.create({ model: MODEL, src: [ask('bob asks')] });
    expect(await listed(bob[0])).toEqual([his.name]);
    expect(await listed(alice[0])).toEqual([inline.name!, fromFile.name!].sort());
    await expectNotFound(alice[0].batches.get({ name: his.name! }));

    const running = await alice[0].batches.create({ model: MODEL, src: [ask('never mind')] });
    expect((await alice[1].batches.get({ name: running.name! })).state).toBe('JOB_STATE_RUNNING');
    await alice[1].batches.cancel({ name: running.name! });
    expect((await alice[0].batches.get({ name: running.name! })).state).toBe('JOB_STATE_CANCELLED');
    await alice[0].batches.delete({ name: running.name! });
    await expectNotFound(alice[1].batches.get({ name: running.name! }));
    expect(keysNaming(running.name!).size).toBe(1);
  });

  it('a /download/ path that is not a file download is refused for every key', async () => {
    const r = await fetch(`${stack.urlOf('gateway', 0)}/download/v1beta/models/${MODEL}:generateContent`, {
      method: 'POST',
      headers: { 'x-goog-api-key': aliceKey, 'content-type': 'application/json' },
      body: JSON.stringify(ask('x')),
    });
    expect(r.status).toBe(404);
    expect(((await r.json()) as { error: unknown }).error).toMatchObject({ code: 404, status: 'NOT_FOUND' });
  });
});
