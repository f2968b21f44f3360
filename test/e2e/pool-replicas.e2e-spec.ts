import { startMockGemini, Stack, type MockGemini } from '@gg/testing';
import { createUserKey, fakeGeminiKey, poll, poolKeys } from './helpers';
import { gatewayInSync, gatewaySees, keysSince, sendUntilSeen, waitForKey } from './pool-support';

jest.setTimeout(60_000);

/**
 * Several gateway replicas share one pool: key states reach every replica, `inUse` sums every replica's requests
 * in flight, a replica that dies frees its keys when its lease runs out; and the selection modes.
 */
describe('one pool, several gateway replicas', () => {
  let mock: MockGemini;
  let stack: Stack;
  let token: string;
  let secret: string;
  const pool = Array.from({ length: 3 }, () => fakeGeminiKey());
  const held: AbortController[] = [];
  const body = (text: string) => JSON.stringify({ contents: [{ parts: [{ text }] }] });
  const generate = (gateway: number, text = 'hello') =>
    fetch(`${stack.urlOf('gateway', gateway)}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: 'POST',
      headers: { 'x-goog-api-key': secret, 'content-type': 'application/json' },
      body: body(text),
    });
  /** Opens a long stream on a replica and waits for its first chunk; answers the pool key it went to. */
  const hold = async (gateway: number): Promise<string> => {
    const ctl = new AbortController();
    held.push(ctl);
    const from = mock.requests.length;
    const res = await fetch(
      `${stack.urlOf('gateway', gateway)}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`,
      {
        method: 'POST',
        headers: { 'x-goog-api-key': secret, 'content-type': 'application/json' },
        body: body('hold'),
        signal: ctl.signal,
      },
    );
    expect(res.status).toBe(200);
    await res.body!.getReader().read();
    return mock.requests.slice(from).find((r) => r.apiMethod === 'streamGenerateContent')!.key;
  };
  const releaseAll = async () => {
    held.splice(0).forEach((c) => c.abort());
    await poll(
      () => poolKeys(stack, token),
      (ks) => ks.every((k) => k.inUse === 0),
      5000,
      'every key free',
    );
  };

  beforeAll(async () => {
    mock = await startMockGemini();
    stack = await Stack.start({ geminiBaseUrl: mock.url, gateways: 2 });
    token = await stack.login();
    expect((await stack.api(token, 'POST', '/api/keys', { keys: pool })).status).toBe(201);
    secret = (await createUserKey(stack, token, 'pool-replicas')).key;
    for (const i of [0, 1]) {
      await stack.gatewayReady(i);
    }
  });

  afterAll(async () => {
    held.forEach((c) => c.abort());
    await stack?.stop();
    await mock?.close();
  });

  afterEach(() => releaseAll());

  beforeEach(async () => {
    mock.reset();
    // long streams: 40 chunks, one every 250 ms
    mock.script({
      type: 'stream',
      chunks: Array.from({ length: 40 }, (_, i) => `c${i} `),
      intervalMs: 250,
      method: 'streamGenerateContent',
      times: Infinity,
    });
    await stack.api(token, 'POST', '/api/keys/reset');
    for (const p of stack.procs.filter((x) => x.name === 'gateway')) await gatewayInSync(stack, pool.length, p.index);
  });

  it('a key rate-limited through one replica is avoided by the other at once', async () => {
    mock.script({ type: 'rateLimit', retryDelay: '40s', key: pool[0], method: 'generateContent', times: Infinity });
    expect((await sendUntilSeen(mock, pool[0], () => generate(0))).every((s) => s === 200)).toBe(true);
    await waitForKey(stack, token, pool[0], (k) => k.status === 'cooldown', 'cooling');
    await gatewaySees(stack, 'cooldown', 1, 1); // pushed by key-pool to the other replica
    const mark = mock.requests.length;
    for (let i = 0; i < 6; i++) expect((await generate(1)).status).toBe(200);
    expect(keysSince(mock, mark)).not.toContain(pool[0]);
    expect(new Set(keysSince(mock, mark))).toEqual(new Set(pool.slice(1)));
  });

  it('inUse sums both replicas within 1 s; a replica that dies frees its keys when its lease runs out', async () => {
    // least-busy: three streams on a replica take the three keys, one each
    const on0 = [await hold(0), await hold(0), await hold(0)];
    const on1 = [await hold(1), await hold(1), await hold(1)];
    expect(new Set(on0)).toEqual(new Set(pool));
    expect(new Set(on1)).toEqual(new Set(pool));
    const t0 = Date.now();
    const busy = await poll(
      () => poolKeys(stack, token),
      (ks) => ks.every((k) => k.inUse === 2 && k.isInUse),
      2000,
      'two in flight on every key',
    );
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(busy).toHaveLength(3);
    await stack.signal('gateway', 'SIGKILL', 1);
    const t1 = Date.now();
    await poll(
      () => poolKeys(stack, token),
      (ks) => ks.every((k) => k.inUse === 1 && k.isInUse),
      6000,
      "the dead replica's share gone",
    );
    expect(Date.now() - t1).toBeLessThan(5000);
  });

  it('least-busy (default): a busy key is skipped while others are free; equal keys are taken in turn', async () => {
    const busy = await hold(0);
    const mark = mock.requests.length;
    for (let i = 0; i < 6; i++) expect((await generate(0)).status).toBe(200);
    const seen = keysSince(mock, mark);
    expect(seen).not.toContain(busy);
    for (let i = 1; i < seen.length; i++) expect(seen[i]).not.toBe(seen[i - 1]);
  });

  describe('other selection settings', () => {
    beforeAll(async () => {
      await Promise.all([
        // runtime settings come from key-pool; a replica keeps a value of its own only where it pins it
        stack.spawn('gateway', 2, { KEY_SELECTION: 'round-robin', PINNED_SETTINGS: 'KEY_SELECTION' }),
        stack.spawn('gateway', 3, { KEY_SELECTION: 'random', PINNED_SETTINGS: 'KEY_SELECTION' }),
        stack.spawn('gateway', 4, { KEY_MAX_CONCURRENCY: '1', PINNED_SETTINGS: 'KEY_MAX_CONCURRENCY' }),
      ]);
    });

    it('KEY_SELECTION=round-robin: every key in turn, busy or not', async () => {
      const busy = await hold(2);
      const mark = mock.requests.length;
      for (let i = 0; i < 6; i++) expect((await generate(2)).status).toBe(200);
      const seen = keysSince(mock, mark);
      expect(seen.filter((k) => k === busy)).toHaveLength(2);
      expect(new Set(seen.slice(0, 3))).toEqual(new Set(pool));
      expect(seen.slice(3)).toEqual(seen.slice(0, 3));
    });

    it('KEY_SELECTION=random: every key is used, not in a fixed turn', async () => {
      const mark = mock.requests.length;
      for (let i = 0; i < 30; i++) expect((await generate(3)).status).toBe(200);
      const seen = keysSince(mock, mark);
      expect(new Set(seen)).toEqual(new Set(pool));
      const cyclic = seen.every((k, i) => i < 3 || k === seen[i - 3]);
      expect(cyclic).toBe(false);
    });

    it('KEY_MAX_CONCURRENCY=1: a key serves one request at a time; when all are busy, 503 with Retry-After', async () => {
      const keys = [await hold(4), await hold(4), await hold(4)];
      expect(new Set(keys)).toEqual(new Set(pool));
      const mark = mock.requests.length;
      const r = await generate(4);
      expect(r.status).toBe(503);
      expect(((await r.json()) as { error: { status: string } }).error.status).toBe('UNAVAILABLE');
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(mock.requests.length).toBe(mark);
      held[0].abort();
      await poll(
        () => generate(4).then((x) => x.status),
        (s) => s === 200,
        3000,
        'a key free again',
      );
    });
  });
});
