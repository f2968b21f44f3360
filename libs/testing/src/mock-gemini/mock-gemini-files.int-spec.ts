import { ApiError, GoogleGenAI } from '@google/genai';
import { request } from 'undici';

import { startMockGemini, type MockGemini } from '@gg/testing';

const KEY = 'AIzaMockKeyOwnerA';
const OTHER = 'AIzaMockKeyOtherB';
const FLASH = '/v1beta/models/gemini-2.5-flash';

let mock: MockGemini;

beforeAll(async () => {
  delete process.env.GOOGLE_GENAI_USE_VERTEXAI;
  mock = await startMockGemini();
});
afterAll(() => mock.close());
beforeEach(() => mock.reset());

const sdk = (apiKey = KEY): GoogleGenAI => new GoogleGenAI({ apiKey, httpOptions: { baseUrl: mock.url } });

async function call(path: string, key: string, body?: unknown, method?: string, headers: Record<string, string> = {}) {
  const res = await request(mock.url + path, {
    method: (method ?? (body === undefined ? 'GET' : 'POST')) as 'GET',
    headers: { 'x-goog-api-key': key, 'content-type': 'application/json', ...headers },
    body:
      body === undefined ? undefined : typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text, json: text ? JSON.parse(text) : undefined };
}

const withFile = (uri: string) => ({
  contents: [{ role: 'user', parts: [{ text: 'describe' }, { fileData: { mimeType: 'text/plain', fileUri: uri } }] }],
});

describe('files', () => {
  it('SDK upload is ACTIVE and belongs to the uploading key', async () => {
    const file = await sdk().files.upload({
      file: new Blob(['hello file']),
      config: { mimeType: 'text/plain', displayName: 'note' },
    });
    expect(file).toMatchObject({ state: 'ACTIVE', mimeType: 'text/plain', sizeBytes: '10', displayName: 'note' });
    expect(file.name).toMatch(/^files\/[a-z0-9]+$/);
    const id = file.name!.slice('files/'.length);
    expect(mock.requests.map((r) => r.apiMethod)).toEqual(['upload', 'upload']);
    expect(mock.requests[1].query).toMatchObject({ upload_protocol: 'resumable', upload_id: expect.any(String) });

    expect((await sdk().files.get({ name: file.name! })).sizeBytes).toBe('10');
    const denied = await sdk(OTHER)
      .files.get({ name: file.name! })
      .catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(ApiError);
    expect((denied as ApiError).status).toBe(403);
    const raw = await call(`/v1beta/files/${id}`, OTHER);
    expect(raw.json.error).toEqual({
      code: 403,
      message: `You do not have permission to access the File ${id} or it may not exist.`,
      status: 'PERMISSION_DENIED',
    });

    expect((await call(`${FLASH}:generateContent`, OTHER, withFile(file.uri!))).status).toBe(403);
    expect((await call(`${FLASH}:streamGenerateContent?alt=sse`, OTHER, withFile(file.uri!))).status).toBe(403);
    expect((await call(`${FLASH}:generateContent`, KEY, withFile(file.uri!))).status).toBe(200);

    expect((await call('/v1beta/files', KEY)).json.files.map((f: { name: string }) => f.name)).toEqual([file.name]);
    expect((await call('/v1beta/files', OTHER)).json).toEqual({});
    expect((await call(`/v1beta/files/${id}`, OTHER, undefined, 'DELETE')).status).toBe(403);
    expect((await call(`/v1beta/files/${id}`, KEY, undefined, 'DELETE')).json).toEqual({});
    expect((await call(`/v1beta/files/${id}`, KEY)).status).toBe(403);
  });

  it('resumable start echoes ?key= into an absolute x-goog-upload-url; chunks and finalize', async () => {
    const start = await call(`/upload/v1beta/files?key=${KEY}`, '', { file: { displayName: 'a.bin' } }, 'POST', {
      'x-goog-upload-protocol': 'resumable',
      'x-goog-upload-command': 'start',
      'x-goog-upload-header-content-type': 'application/octet-stream',
    });
    expect(start.headers['x-goog-upload-status']).toBe('active');
    const url = String(start.headers['x-goog-upload-url']);
    expect(url.startsWith(`${mock.url}/upload/v1beta/files?key=${KEY}&upload_id=`)).toBe(true);
    const path = url.slice(mock.url.length);
    const part1 = await call(path, '', Buffer.from('abc'), 'POST', {
      'x-goog-upload-command': 'upload',
      'x-goog-upload-offset': '0',
    });
    expect(part1.headers['x-goog-upload-status']).toBe('active');
    const stolen = await call(path, OTHER, Buffer.from('x'), 'POST', {
      'x-goog-upload-command': 'upload',
      'x-goog-upload-offset': '3',
    });
    expect(stolen.status).toBe(403);
    const done = await call(path, KEY, Buffer.from('def'), 'POST', {
      'x-goog-upload-command': 'upload, finalize',
      'x-goog-upload-offset': '3',
    });
    expect(done.headers['x-goog-upload-status']).toBe('final');
    expect(done.json.file).toMatchObject({
      sizeBytes: '6',
      state: 'ACTIVE',
      displayName: 'a.bin',
      mimeType: 'application/octet-stream',
    });
    const noKeyEcho = await call('/upload/v1beta/files', KEY, {}, 'POST', {
      'x-goog-upload-protocol': 'resumable',
      'x-goog-upload-command': 'start',
    });
    expect(String(noKeyEcho.headers['x-goog-upload-url'])).not.toContain('key=');
  });

  it('multipart upload answers {"file": …} directly', async () => {
    const body =
      '--XYZ\r\nContent-Type: application/json; charset=utf-8\r\n\r\n{"file":{"displayName":"m.txt"}}\r\n' +
      '--XYZ\r\nContent-Type: text/plain\r\n\r\nmultipart bytes\r\n--XYZ--\r\n';
    const r = await call('/upload/v1beta/files', KEY, body, 'POST', {
      'x-goog-upload-protocol': 'multipart',
      'content-type': 'multipart/related; boundary=XYZ',
    });
    expect(r.json.file).toMatchObject({
      displayName: 'm.txt',
      mimeType: 'text/plain',
      sizeBytes: '15',
      state: 'ACTIVE',
    });
  });
});

describe('cachedContents', () => {
  it('are owned by the creating key, for get, delete and generateContent', async () => {
    const created = await call('/v1beta/cachedContents', KEY, {
      model: 'models/gemini-2.5-flash',
      contents: [{ role: 'user', parts: [{ text: 'a b c d e' }] }],
      ttl: '300s',
    });
    expect(created.json).toMatchObject({
      name: expect.stringMatching(/^cachedContents\//),
      model: 'models/gemini-2.5-flash',
      usageMetadata: { totalTokenCount: 5 },
    });
    const name = created.json.name as string;
    expect((await call(`/v1beta/${name}`, KEY)).json.name).toBe(name);
    expect((await call(`/v1beta/${name}`, OTHER)).json.error.status).toBe('PERMISSION_DENIED');
    const body = { contents: [{ role: 'user', parts: [{ text: 'q' }] }], cachedContent: name };
    expect((await call(`${FLASH}:generateContent`, OTHER, body)).status).toBe(403);
    expect((await call(`${FLASH}:generateContent`, KEY, body)).json.usageMetadata).toMatchObject({
      promptTokenCount: 6,
      cachedContentTokenCount: 5,
    });
    expect((await call(`/v1beta/${name}`, OTHER, undefined, 'DELETE')).status).toBe(403);
    expect((await call(`/v1beta/${name}`, KEY, undefined, 'DELETE')).status).toBe(200);
    expect((await call(`/v1beta/${name}`, KEY)).status).toBe(403);
  });
});

describe('recording', () => {
  it('caps bodyText at 1 MB but counts every byte; clearRequests empties the same array', async () => {
    const big = JSON.stringify({ contents: [{ parts: [{ text: 'w '.repeat(800_000) }] }] });
    const r = await call(`${FLASH}:countTokens`, KEY, big);
    expect(r.json.totalTokens).toBe(800_000);
    const seen = mock.requests;
    expect(seen[0].bodyBytes).toBe(Buffer.byteLength(big));
    expect(seen[0].bodyText.length).toBe(1024 * 1024);
    mock.clearRequests();
    expect(seen).toHaveLength(0);
    expect(mock.requests).toBe(seen);
  });

  it('serves /v1 as well, and 404s unknown models and paths', async () => {
    expect(
      (await call('/v1/models/gemini-2.5-flash:generateContent', KEY, { contents: [{ parts: [{ text: 'hi' }] }] })).json
        .candidates[0].content.parts[0].text,
    ).toBe('echo: hi');
    const unknown = await call('/v1beta/models/gemini-9:generateContent', KEY, { contents: [] });
    expect([unknown.status, unknown.json.error.status]).toEqual([404, 'NOT_FOUND']);
    expect((await call('/v1beta/nothing-here', KEY)).status).toBe(404);
    expect((await call('/v1beta/models%3Afoo', KEY)).status).toBe(404);
    expect(
      (await call('/v1beta/models/gemini-2.5-flash%3AcountTokens', KEY, { contents: [{ parts: [{ text: 'a b' }] }] }))
        .json.totalTokens,
    ).toBe(2);
  });
});
