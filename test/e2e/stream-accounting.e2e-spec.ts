import type { Page, PoolKey, RequestLog } from '@gg/contracts';
import { startMockGemini, Stack, type MockGemini } from '@gg/testing';
import { createUserKey, fakeGeminiKey, poll, poolKeys } from './helpers';
import { gatewayInSync } from './pool-support';

jest.setTimeout(90_000);

const PROMPT = 'tell me a long story please';

/** What a client read of a stream before it ended or broke, and the last token counts it saw. */
interface Read {
  text: string;
  broke: boolean;
  promptTokens: number;
  outputTokens: number;
}

async function readStream(r: Response): Promise<Read> {
  let text = '';
  let broke = false;
  const decoder = new TextDecoder();
  try {
    for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>)
      text += decoder.decode(chunk, { stream: true });
  } catch {
    broke = true;
  }
  const last = (re: RegExp) => {
    const all = [...text.matchAll(re)];
    return all.length ? Number(all[all.length - 1][1]) : 0;
  };
  // Gemini's usageMetadata (native) or OpenAI's usage chunk; cumulative, so the last one counts
  return {
    text,
    broke,
    promptTokens: last(/"(?:promptTokenCount|prompt_tokens)"\s*:\s*(\d+)/g),
    outputTokens: last(/"(?:candidatesTokenCount|completion_tokens)"\s*:\s*(\d+)/g),
  };
}

/**
 * A stream's outcome is known at its end: a clean end is a success of its key; a break or a deadline cut after the
 * headers is one failure of that key (counted once, one request), and the request log row carries the error and
 * the tokens of the chunks relayed so far.
 */
describe('streams are accounted when they end', () => {
  let mock: MockGemini;
  let stack: Stack;
  let token: string;
  let secret: string;
  let authKeyId: string;
  const poolKey = fakeGeminiKey();

  const nativeStream = () =>
    fetch(`${stack.gatewayUrl}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`, {
      method: 'POST',
      headers: { 'x-goog-api-key': secret, 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ parts: [{ text: PROMPT }] }] }),
    });
  const openAiStream = () =>
    fetch(`${stack.gatewayUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'gemini-2.5-flash',
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: 'user', content: PROMPT }],
      }),
    });
  const theKey = async (): Promise<PoolKey> => (await poolKeys(stack, token))[0];
  const logs = async (): Promise<RequestLog[]> => {
    const r = await stack.api<Page<RequestLog>>(token, 'GET', `/api/logs?authKeyId=${authKeyId}&limit=100`);
    return r.body.items;
  };

  beforeAll(async () => {
    mock = await startMockGemini();
    stack = await Stack.start({
      geminiBaseUrl: mock.url,
      env: { REQUEST_TIMEOUT_SECONDS: '2', KEY_MAX_FAILURES: '3' },
    });
    token = await stack.login();
    expect((await stack.api(token, 'POST', '/api/keys', { keys: [poolKey] })).status).toBe(201);
    const k = await createUserKey(stack, token, 'streams');
    secret = k.key;
    authKeyId = k.id;
    await stack.gatewayReady();
  });

  afterAll(async () => {
    await stack?.stop();
    await mock?.close();
  });

  beforeEach(async () => {
    mock.reset();
    expect((await stack.api(token, 'POST', '/api/keys/reset')).status).toBeLessThan(300);
    await poll(
      () => theKey(),
      (k) => k.status === 'active' && k.failureCount === 0,
      3000,
      'pool reset',
    );
    await gatewayInSync(stack, 1);
  });

  it('8 streams that break after their first chunks: 8 failures, 8 requests, 8 log rows with the error and the tokens relayed', async () => {
    const before = await theKey();
    const logged = (await logs()).length;
    mock.script({ type: 'resetMidStream', afterChunks: 2, method: 'streamGenerateContent', times: 8 });
    const reads: Read[] = [];
    for (let i = 0; i < 8; i++) {
      const r = await nativeStream();
      expect(r.status).toBe(200);
      reads.push(await readStream(r));
    }
    expect(reads.every((x) => x.broke && x.outputTokens > 0 && x.promptTokens > 0)).toBe(true);
    const after = await poll(
      () => theKey(),
      (k) => k.totalRequests >= before.totalRequests + 8,
      3000,
      'the 8 streams counted',
    );
    await new Promise((r) => setTimeout(r, 300)); // nothing more comes
    const settled = await theKey();
    expect(settled.totalRequests).toBe(before.totalRequests + 8);
    expect(settled.failureCount).toBe(8);
    expect(after.lastError).toMatch(/upstream stream broke/);
    // one user's breaks that nothing confirms: counted, but the only key of the pool keeps serving
    expect(settled.status).toBe('active');
    const rows = await poll(
      () => logs(),
      (x) => x.length >= logged + 8,
      5000,
      'the 8 log rows',
    );
    const broken = rows.slice(0, 8);
    for (const row of broken) {
      expect(row).toMatchObject({ status: 200, stream: true, poolKeyId: settled.id });
      expect(row.error).toMatch(/upstream stream broke/);
      expect(row.promptTokens).toBe(reads[0].promptTokens);
      expect(row.outputTokens).toBe(reads[0].outputTokens);
    }

    // a stream that ends cleanly is one success: the failures are forgotten, one more request, no error logged
    const ok = await readStream(await nativeStream());
    expect(ok.broke).toBe(false);
    const healed = await poll(
      () => theKey(),
      (k) => k.failureCount === 0,
      3000,
      'a success',
    );
    expect(healed.totalRequests).toBe(before.totalRequests + 9);
    const clean = await poll(
      () => logs(),
      (x) => x.length >= logged + 9,
      5000,
      'the clean row',
    );
    expect(clean[0].error).toBeUndefined();
    expect(clean[0].outputTokens).toBe(ok.outputTokens);
  });

  it('a stream cut by the deadline after its headers is one failure of its key, logged with its error and tokens', async () => {
    const before = await theKey();
    const logged = (await logs()).length;
    // one chunk every 700 ms; REQUEST_TIMEOUT_SECONDS=2 cuts it after the third
    mock.script({
      type: 'stream',
      chunks: ['one ', 'two ', 'three ', 'four ', 'five ', 'six '],
      intervalMs: 700,
      method: 'streamGenerateContent',
      times: 1,
    });
    const r = await nativeStream();
    expect(r.status).toBe(200);
    const read = await readStream(r);
    expect(read.broke).toBe(true);
    expect(read.outputTokens).toBeGreaterThan(0);
    expect(read.outputTokens).toBeLessThan(6);
    await poll(
      () => theKey(),
      (k) => k.totalRequests === before.totalRequests + 1 && k.failureCount === 1,
      3000,
      'the cut counted',
    );
    await new Promise((r) => setTimeout(r, 300)); // nothing more comes: a fixed window proves an absence
    expect(await theKey()).toMatchObject({ totalRequests: before.totalRequests + 1, failureCount: 1 });
    expect((await theKey()).lastError).toMatch(/deadline/);
    const rows = await poll(
      () => logs(),
      (x) => x.length >= logged + 1,
      5000,
      'the log row',
    );
    expect(rows[0]).toMatchObject({
      status: 200,
      stream: true,
      outputTokens: read.outputTokens,
      promptTokens: read.promptTokens,
    });
    expect(rows[0].error).toMatch(/deadline/);
  });

  it("a native stream that ends with Google's error event is one failure of its key, logged with that error", async () => {
    const before = await theKey();
    const logged = (await logs()).length;
    mock.script({ type: 'errorMidStream', afterChunks: 2, method: 'streamGenerateContent', times: 1 });
    const read = await readStream(await nativeStream());
    expect(read.broke).toBe(false);
    expect(read.text).toContain('"error"');
    await poll(
      () => theKey(),
      (k) => k.totalRequests === before.totalRequests + 1 && k.failureCount === 1,
      3000,
      'the error counted',
    );
    const rows = await poll(
      () => logs(),
      (x) => x.length >= logged + 1,
      5000,
      'the log row',
    );
    expect(rows[0]).toMatchObject({ status: 200, outputTokens: read.outputTokens, promptTokens: read.promptTokens });
    expect(rows[0].error).toBe('upstream error mid-stream: Internal error');
  });

  it('the OpenAI stream follows the same rule: a break is one failure, logged with its error and the tokens relayed', async () => {
    const before = await theKey();
    const logged = (await logs()).length;
    mock.script({ type: 'resetMidStream', afterChunks: 2, method: 'streamGenerateContent', times: 2 });
    for (let i = 0; i < 2; i++) {
      const r = await openAiStream();
      expect(r.status).toBe(200);
      const read = await readStream(r);
      // the SDKs throw on the error chunk that ends the stream
      expect(read.text).toMatch(/"error"/);
      expect(read.text).not.toContain('[DONE]');
    }
    await poll(
      () => theKey(),
      (k) => k.totalRequests === before.totalRequests + 2 && k.failureCount === 2,
      3000,
      'the 2 breaks counted',
    );
    const rows = await poll(
      () => logs(),
      (x) => x.length >= logged + 2,
      5000,
      'the log rows',
    );
    for (const row of rows.slice(0, 2)) {
      expect(row.status).toBe(200);
      expect(row.error).toMatch(/upstream stream broke/);
      expect(row.promptTokens).toBeGreaterThan(0);
      expect(row.outputTokens).toBeGreaterThan(0);
    }
  });
});
