import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ApiError, GoogleGenAI } from '@google/genai';
import { request } from 'undici';

import { startMockGemini, type MockGemini } from '@gg/testing';

const KEY = 'AIzaMockKeyOwnerA';
const OTHER = 'AIzaMockKeyOtherB';
const MODEL = 'gemini-2.5-flash';

let mock: MockGemini;
let dir: string;

beforeAll(async () => {
  delete process.env.GOOGLE_GENAI_USE_VERTEXAI;
  // three reads: PENDING when made, RUNNING on the first two reads, SUCCEEDED on the third
  mock = await startMockGemini({ batchReadsToFinish: 3 });
  dir = await mkdtemp(join(tmpdir(), 'mock-batches-'));
});
afterAll(async () => {
  await mock.close();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => mock.reset());

const sdk = (apiKey = KEY): GoogleGenAI => new GoogleGenAI({ apiKey, httpOptions: { baseUrl: mock.url } });
const ask = (text: string) => ({ contents: [{ role: 'user', parts: [{ text }] }] });

async function status(p: Promise<unknown>): Promise<number | undefined> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  return e instanceof ApiError ? e.status : undefined;
}

describe('batch mode through the official SDK', () => {
  it('inline requests: PENDING → RUNNING → SUCCEEDED, one echo answer per request, in order', async () => {
    const job = await sdk().batches.create({
      model: MODEL,
      src: [ask('first question'), ask('second question')],
      config: { displayName: 'inline' },
    });
    expect(job).toMatchObject({ state: 'JOB_STATE_PENDING', displayName: 'inline' });
    expect(job.name).toMatch(/^batches\/[a-z0-9]+$/);
    const created = mock.requests.find((r) => r.apiMethod === 'batchGenerateContent')!;
    expect(created.path).toBe(`/v1beta/models/${MODEL}:batchGenerateContent`);
    expect(JSON.parse(created.bodyText).batch.inputConfig.requests.requests).toHaveLength(2);

    const states: string[] = [];
    for (let i = 0; i < 3; i++) states.push((await sdk().batches.get({ name: job.name! })).state!);
    expect(states).toEqual(['JOB_STATE_RUNNING', 'JOB_STATE_RUNNING', 'JOB_STATE_SUCCEEDED']);
    const done = await sdk().batches.get({ name: job.name! });
    expect(done.state).toBe('JOB_STATE_SUCCEEDED');
    const texts = done.dest!.inlinedResponses!.map((r) => r.response?.candidates?.[0]?.content?.parts?.[0]?.text);
    expect(texts).toEqual(['echo: first question', 'echo: second question']);
  });

  it('file input: the JSONL results file is the batch key’s and downloads (both paths) with one line per request', async () => {
    const lines = [
      { key: 'a', request: ask('alpha') },
      { key: 'b', request: ask('beta') },
      { key: 'c', request: { nonsense: true } },
    ];
    const input = await sdk().files.upload({
      file: new Blob([lines.map((l) => JSON.stringify(l)).join('\n') + '\n']),
      config: { mimeType: 'application/jsonl', displayName: 'in.jsonl' },
    });
    const job = await sdk().batches.create({ model: MODEL, src: input.name! });
    for (let i = 0; i < 3; i++) await sdk().batches.get({ name: job.name! });
    const done = await sdk().batches.get({ name: job.name! });
    expect(done.state).toBe('JOB_STATE_SUCCEEDED');
    const results = done.dest!.fileName!;
    expect(results).toMatch(/^files\//);

    const path = join(dir, 'results.jsonl');
    await sdk().files.download({ file: results, downloadPath: path });
    const got = (await readFile(path, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(got.map((l) => l.key)).toEqual(['a', 'b', 'c']);
    expect(got[0].response.candidates[0].content.parts[0].text).toBe('echo: alpha');
    expect(got[1].response.candidates[0].content.parts[0].text).toBe('echo: beta');
    expect(got[2].error).toMatchObject({ code: 3 });
    const sdkDownload = mock.requests.filter((r) => r.apiMethod === 'files.download').at(-1)!;
    expect(sdkDownload.path).toBe(`/v1beta/${results}:download`);
    expect(sdkDownload.query).toEqual({ alt: 'media' });

    // Google's media path answers the same bytes; another key is refused, an uploaded file is not downloadable
    const media = await request(`${mock.url}/download/v1beta/${results}:download?alt=media`, {
      headers: { 'x-goog-api-key': KEY },
    });
    expect(media.statusCode).toBe(200);
    expect(await media.body.text()).toBe(await readFile(path, 'utf8'));
    expect(await status(sdk(OTHER).files.download({ file: results, downloadPath: join(dir, 'x') }))).toBe(403);
    const other = await request(`${mock.url}/download/v1beta/${results}:download?alt=media`, {
      headers: { 'x-goog-api-key': OTHER },
    });
    expect(other.statusCode).toBe(403);
    await other.body.dump();
    expect(await status(sdk().files.download({ file: input.name!, downloadPath: join(dir, 'y') }))).toBe(400);
    expect((await sdk().files.get({ name: results })).source).toBe('GENERATED');
  });

  it('get, cancel, delete and list are the creating key’s only; a cancel ends a running batch', async () => {
    const job = await sdk().batches.create({ model: MODEL, src: [ask('x')] });
    for (const call of [
      () => sdk(OTHER).batches.get({ name: job.name! }),
      () => sdk(OTHER).batches.cancel({ name: job.name! }),
      () => sdk(OTHER).batches.delete({ name: job.name! }),
    ]) {
      expect(await status(call())).toBe(404);
    }
    const listed = async (key: string) => {
      const names: string[] = [];
      for await (const j of await sdk(key).batches.list()) names.push(j.name!);
      return names;
    };
    expect(await listed(OTHER)).toEqual([]);
    expect(await listed(KEY)).toEqual([job.name]);

    expect((await sdk().batches.get({ name: job.name! })).state).toBe('JOB_STATE_RUNNING');
    await sdk().batches.cancel({ name: job.name! });
    const cancelled = await sdk().batches.get({ name: job.name! });
    expect(cancelled.state).toBe('JOB_STATE_CANCELLED');
    expect(cancelled.dest).toBeUndefined();
    await sdk().batches.delete({ name: job.name! });
    expect(await status(sdk().batches.get({ name: job.name! }))).toBe(404);
  });
});
