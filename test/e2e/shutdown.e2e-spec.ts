import type { AddPoolKeysResult } from '@gg/contracts';
import { startMockGemini, Stack, type MockGemini } from '@gg/testing';
import { createUserKey, fakeGeminiKey, poll, userKey } from './helpers';

jest.setTimeout(90_000);

/** SIGTERM as Kubernetes and Compose send it: nothing in flight is cut, nothing counted is lost. */
describe('graceful shutdown', () => {
  let mock: MockGemini;
  let stack: Stack;
  let token: string;
  let key: { id: string; key: string };

  beforeAll(async () => {
    mock = await startMockGemini();
    stack = await Stack.start({ geminiBaseUrl: mock.url, gateways: 2 });
    token = await stack.login();
    const added = await stack.api<AddPoolKeysResult>(token, 'POST', '/api/keys', {
      keys: [fakeGeminiKey(), fakeGeminiKey()],
    });
    expect(added.status).toBe(201);
    key = await createUserKey(stack, token, 'shutdown');
    for (const i of [0, 1]) {
      await stack.gatewayReady(i);
    }
  });

  afterAll(async () => {
    await stack?.stop();
    await mock?.close();
  });

  beforeEach(() => mock.reset());

  const generate = (gateway: string, text: string) =>
    fetch(`${gateway}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: 'POST',
      headers: { 'x-goog-api-key': key.key, 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ parts: [{ text }] }] }),
    });

  it('on SIGTERM the gateway refuses new connections, finishes the stream in flight, and the call is counted', async () => {
    const before = (await userKey(stack, token, key.id))!.callCount;
    const chunks = ['one ', 'two ', 'three ', 'four ', 'five'];
    mock.script({ type: 'stream', chunks, intervalMs: 500, method: 'streamGenerateContent' });
    const gateway = stack.urlOf('gateway', 0);
    const res = await fetch(`${gateway}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`, {
      method: 'POST',
      headers: { 'x-goog-api-key': key.key, 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ parts: [{ text: 'count' }] }] }),
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const first = await reader.read();
    text += decoder.decode(first.value);
    expect(text).toContain('one');

    const t0 = Date.now();
    const exited = stack.signal('gateway', 'SIGTERM', 0, 60_000);
    // a new connection is refused while the stream still runs
    await poll(
      () =>
        fetch(`${gateway}/healthz`).then(
          () => 'accepted',
          (e: Error & { cause?: { code?: string } }) => e.cause?.code ?? e.message,
        ),
      (v) => v === 'ECONNREFUSED',
      5000,
      'the draining gateway to refuse new connections',
    );
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    const sent = [...text.matchAll(/"text":\s*"([^"]*)"/g)].map((m) => m[1]).join('');
    expect(sent).toBe(chunks.join(''));
    // Nest re-raises the signal once closed (exit code null), well before the SIGKILL deadline
    expect([0, null]).toContain(await exited);
    expect(Date.now() - t0).toBeLessThan(30_000);

    // the other replica serves on; the drained call was flushed to the usage queue and counted
    expect((await generate(stack.urlOf('gateway', 1), 'still here')).status).toBe(200);
    await poll(
      () => userKey(stack, token, key.id).then((k) => k!.callCount),
      (n) => n === before + 2,
      10_000,
      'both calls counted',
    );
  });

  it('SIGTERM of auth while usage jobs are pending loses no count', async () => {
    const gateway = stack.urlOf('gateway', 1);
    const before = (await userKey(stack, token, key.id))!.callCount;
    const n = 30;
    const results = await Promise.all(Array.from({ length: n }, (_, i) => generate(gateway, `burst ${i}`)));
    expect(results.map((r) => r.status)).toEqual(Array(n).fill(200));
    // auth goes away while the batches are still being applied (or not yet picked up)
    const t0 = Date.now();
    expect([0, null]).toContain(await stack.signal('auth', 'SIGTERM', 0, 20_000));
    expect(Date.now() - t0).toBeLessThan(15_000);
    await stack.spawn('auth');
    await poll(
      () => userKey(stack, token, key.id).then((k) => k!.callCount),
      (c) => c === before + n,
      20_000,
      `${n} more calls counted`,
    );
    // and nothing twice: nothing more may arrive, which only a fixed window can show
    await new Promise((r) => setTimeout(r, 500));
    expect((await userKey(stack, token, key.id))!.callCount).toBe(before + n);
  });
});
