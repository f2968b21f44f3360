import { startMockGemini, Stack, type MockGemini } from '@gg/testing';
import { createUserKey, fakeGeminiKey, maskOf, poll, poolKeys } from './helpers';

jest.setTimeout(60_000);

/** One JSON line of an app's stdout (its own log, debug lines included, and the transaction log). */
interface Line {
  msg?: string;
  log?: string;
  level?: number;
  requestId?: string;
  [field: string]: unknown;
}

function parse(text: string): Line[] {
  const out: Line[] = [];
  for (const l of text.split('\n')) {
    if (!l.startsWith('{')) continue;
    try {
      out.push(JSON.parse(l) as Line);
    } catch {
      // the last line may still be on its way
    }
  }
  return out;
}

/**
 * LOG_LEVEL=debug (README "Debug log"): one stack, two pool keys, one of which answers 429 with a retryDelay; a
 * request that fails over, the next ones, and what the debug lines say about them — and nothing secret in any line.
 * The transaction log is on its default stdout here: its lines are batched, and a graceful shutdown writes them out.
 */
describe('debug log (LOG_LEVEL=debug)', () => {
  let mock: MockGemini;
  let stack: Stack;
  let token: string;
  let secret: string;
  let idOf: (key: string) => string;
  const [limited, good] = [fakeGeminiKey(), fakeGeminiKey()];
  const PROMPT = `a prompt nobody may log ${Date.now()}`;

  const gateway = (): Line[] => parse(stack.output('gateway'));
  const send = async (text: string): Promise<string> => {
    const r = await fetch(`${stack.gatewayUrl}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: 'POST',
      headers: { 'x-goog-api-key': secret, 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ parts: [{ text }] }] }),
    });
    expect(r.status).toBe(200);
    await r.arrayBuffer();
    return r.headers.get('x-request-id')!;
  };
  /** The debug lines of one request, once its last attempt's classification (at the answer's end) is in. */
  const linesOf = (requestId: string): Promise<Line[]> =>
    poll(
      () => gateway().filter((l) => l.requestId === requestId && l.level === 20),
      (ls) => ls.some((l) => l.msg === 'attempt classified' && l.outcome === 'success'),
      10_000,
      `debug lines of ${requestId}`,
    );

  beforeAll(async () => {
    mock = await startMockGemini();
    stack = await Stack.start({
      geminiBaseUrl: mock.url,
      env: { LOG_LEVEL: 'debug', KEY_SELECTION: 'round-robin' },
    });
    token = await stack.login();
    expect((await stack.api(token, 'POST', '/api/keys', { keys: [limited, good] })).status).toBe(201);
    const ks = await poolKeys(stack, token);
    idOf = (key) => ks.find((k) => k.masked === maskOf(key))!.id;
    secret = (await createUserKey(stack, token, 'debug')).key;
    await stack.gatewayReady();
    mock.script({ type: 'rateLimit', key: limited, retryDelay: '30s', times: Infinity });
  });

  afterAll(async () => {
    await stack?.stop();
    await mock?.close();
  });

  it('a failover from a 429: the choice and its candidates, the 429 classified with its retryDelay, the next key', async () => {
    // round-robin: of two requests in a row, one tries the limited key first
    let failover: Line[] = [];
    const ids: string[] = [];
    for (let i = 0; i < 2 && failover.length === 0; i++) {
      const id = await send(`${PROMPT} ${i}`);
      ids.push(id);
      const lines = await linesOf(id);
      if (lines.some((l) => l.msg === 'attempt classified' && l.status === 429)) failover = lines;
    }
    const [A, B] = [idOf(limited), idOf(good)];
    const choices = failover.filter((l) => l.msg === 'pool choice');
    expect(choices[0]).toMatchObject({
      attempt: 1,
      model: 'gemini-2.5-flash',
      candidates: 2,
      usable: 2,
      skipped: [],
      mode: 'round-robin',
      chosen: A,
    });
    expect(failover.find((l) => l.msg === 'attempt classified' && l.status === 429)).toMatchObject({
      attempt: 1,
      keyId: A,
      outcome: 'rate_limited',
      retryDelayMs: 30_000,
      blamedOn: 'key',
      action: expect.stringContaining('cools down'),
      reason: expect.stringContaining('429 RESOURCE_EXHAUSTED'),
    });
    expect(choices[1]).toMatchObject({ attempt: 2, usable: 1, skipped: [{ keyId: A, why: 'tried' }], chosen: B });

    // the next request does not try the limited key: it rests for the model, until about 30 s from now
    const next = await linesOf(await send(`${PROMPT} next`));
    const choice = next.find((l) => l.msg === 'pool choice')!;
    expect(choice).toMatchObject({ attempt: 1, usable: 1, chosen: B, skippedBy: { 'model cooldown': 1 } });
    const until = Date.parse((choice.skipped as { until: string }[])[0].until);
    expect(until - Date.now()).toBeGreaterThan(20_000);
    expect(until - Date.now()).toBeLessThanOrEqual(31_000);

    // auth: the first request missed the cache and asked auth; the later ones hit it
    const auth = gateway().filter((l) => l.msg === 'auth cache' || l.msg === 'auth lookup');
    expect(auth.slice(0, 3)).toMatchObject([
      { msg: 'auth cache', result: 'miss', lookup: 'rpc' },
      { msg: 'auth lookup', found: true, cached: true },
      { msg: 'auth cache', result: 'hit' },
    ]);
    expect(auth.filter((l) => l.result === 'hit').length).toBeGreaterThanOrEqual(ids.length);
    // and auth, on its side, found the key by its current secret
    expect(parse(stack.output('auth')).find((l) => l.msg === 'key lookup')).toMatchObject({
      found: true,
      how: 'current secret',
    });

    // key-pool applied the 429: the model cooldown on the limited key, with the delay Google gave
    const applied = await poll(
      () =>
        parse(stack.output('key-pool')).find(
          (l) => l.msg === 'outcome applied' && l.keyId === A && l.outcome === 'rate_limited',
        ),
      (l) => l !== undefined,
      10_000,
      'the 429 applied in key-pool',
    );
    expect(applied).toMatchObject({ retryDelayMs: 30_000, effect: { modelCooldown: { model: 'gemini-2.5-flash' } } });
  });

  it('a forged key is refused with no lookup, and says so', async () => {
    const r = await fetch(`${stack.gatewayUrl}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: 'POST',
      headers: { 'x-goog-api-key': `gg-${'x'.repeat(40)}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(r.status).toBe(401);
    await r.arrayBuffer();
    await poll(
      () => gateway().find((l) => l.msg === 'auth cache' && l.result === 'forged'),
      (l) => l !== undefined,
      10_000,
      'the forged key line',
    );
  });

  it('graceful shutdown: the last transaction lines, still batched, are written out; no secret in any line', async () => {
    const id = await send(`${PROMPT} last`);
    // right away, well inside the 100 ms batching period
    const proc = stack.procs.find((p) => p.name === 'gateway')!;
    // the gateway ends its graceful shutdown by re-raising SIGTERM: no exit code
    expect([0, null]).toContain(await stack.signal('gateway', 'SIGTERM'));
    const out = parse(proc.output.join(''));
    expect(out.find((l) => l.log === 'transaction' && l.requestId === id)).toMatchObject({ status: 200 });

    const text = [proc.output.join(''), stack.output('key-pool'), stack.output('auth'), stack.output('admin')].join(
      '\n',
    );
    // the lines searched are there: debug lines of every decision, from the gateway and from key-pool
    expect(parse(text).filter((l) => l.level === 20).length).toBeGreaterThan(10);
    for (const s of [limited, good, secret, PROMPT, stack.adminPassword, token]) expect(text).not.toContain(s);
    expect(text).not.toMatch(/AIza[0-9A-Za-z_-]{20,}|gg1?-[0-9A-Za-z_-]{20,}/);
  });
});
