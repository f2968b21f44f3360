import type { AuthKey, Page, RequestLog } from '@gg/contracts';
import { startMockGemini, Stack, type MockGemini } from '@gg/testing';
import { createKey, generate, keyOf, listModels, msUntil } from './accounts-helpers';
import { fakeGeminiKey, poll } from './helpers';

jest.setTimeout(60_000);

/** User keys on two gateway replicas: format, per-key limits, revocation timing, rotation grace, accounting. */
describe('user keys on two gateway replicas', () => {
  let mock: MockGemini;
  let stack: Stack;
  let admin: string;
  let gateways: string[];

  /** Use the key on both replicas, so that both hold it in their auth cache. */
  async function warm(key: string): Promise<void> {
    for (const g of gateways) expect(await listModels(g, key)).toBe(200);
  }

  /** ms until `key` is refused with 401 on every replica (measured from the call). */
  async function refusedEverywhere(key: string, timeoutMs = 1000): Promise<number> {
    const times = await Promise.all(
      gateways.map((g) =>
        msUntil(
          () => listModels(g, key),
          (s) => s === 401,
          timeoutMs,
          `401 on ${g}`,
        ),
      ),
    );
    return Math.max(...times);
  }

  beforeAll(async () => {
    mock = await startMockGemini();
    stack = await Stack.start({ geminiBaseUrl: mock.url, gateways: 2 });
    gateways = [stack.urlOf('gateway', 0), stack.urlOf('gateway', 1)];
    admin = await stack.login();
    expect((await stack.api(admin, 'POST', '/api/keys', { keys: [fakeGeminiKey(), fakeGeminiKey()] })).status).toBe(
      201,
    );
    for (const i of [0, 1]) await stack.gatewayReady(i);
  });

  afterAll(async () => {
    await stack?.stop();
    await mock?.close();
  });

  beforeEach(() => mock.reset());

  it('keys are gg1- + 32 random bytes + a checksum; only a prefix is shown; a mistyped key never reaches Google', async () => {
    const k = await createKey(stack, admin, { name: 'format' });
    expect(k.key).toMatch(/^gg1-[A-Za-z0-9_-]{51}$/);
    expect(Buffer.from(k.key.slice(4, 47), 'base64url')).toHaveLength(32);
    expect(k.prefix).toBe(k.key.slice(0, 10));
    const listed = await keyOf(stack, admin, k.id);
    expect(JSON.stringify(listed)).not.toContain(k.key.slice(10));
    const i = 20;
    const typo = k.key.slice(0, i) + (k.key[i] === 'A' ? 'B' : 'A') + k.key.slice(i + 1);
    for (const g of gateways) {
      const r = await generate(g, typo);
      expect(r.status).toBe(401);
      expect(JSON.parse(r.body).error).toMatchObject({ status: 'UNAUTHENTICATED' });
    }
    expect(mock.requests).toHaveLength(0);
  });

  it('a per-minute limit is exact across both replicas: 429 RESOURCE_EXHAUSTED with Retry-After', async () => {
    const limit = 4;
    const k = await createKey(stack, admin, { name: 'rpm', rateLimitPerMinute: limit });
    expect(k.rateLimitPerMinute).toBe(limit);
    // the counter is per clock minute: start well inside one so that the burst does not straddle two
    const left = 60_000 - (Date.now() % 60_000);
    if (left < 10_000) await new Promise((r) => setTimeout(r, left + 50)); // the clock itself: wait for the next minute
    const results = await Promise.all(Array.from({ length: 10 }, (_, n) => generate(gateways[n % 2], k.key)));
    const ok = results.filter((r) => r.status === 200);
    const limited = results.filter((r) => r.status === 429);
    expect(ok).toHaveLength(limit);
    expect(limited).toHaveLength(10 - limit);
    for (const r of limited) {
      expect(JSON.parse(r.body).error).toMatchObject({ code: 429, status: 'RESOURCE_EXHAUSTED' });
      const retryAfter = Number(r.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
    }
    expect(mock.requests).toHaveLength(limit);
    // refused requests passed authentication: they are counted and logged
    const counted = await poll(
      () => keyOf(stack, admin, k.id),
      (x) => (x?.callCount ?? 0) >= 10,
      5000,
      'call count',
    );
    expect(counted?.callCount).toBe(10);
    const logs = await stack.api<Page<RequestLog>>(admin, 'GET', `/api/logs?authKeyId=${k.id}&status=429`);
    expect(logs.body.items).toHaveLength(10 - limit);
    expect(logs.body.items[0].error).toMatch(/rate limit/);
  });

  it('an allow-list of models: other models get 403 PERMISSION_DENIED; lifting it applies on both replicas', async () => {
    const k = await createKey(stack, admin, { name: 'models', allowedModels: ['models/gemini-2.5-flash'] });
    expect(k.allowedModels).toEqual(['gemini-2.5-flash']);
    for (const g of gateways) {
      expect((await generate(g, k.key, 'gemini-2.5-flash')).status).toBe(200);
      const denied = await generate(g, k.key, 'gemini-2.5-pro');
      expect(denied.status).toBe(403);
      expect(JSON.parse(denied.body).error).toMatchObject({ code: 403, status: 'PERMISSION_DENIED' });
      expect(await listModels(g, k.key)).toBe(200);
    }
    const generated = mock.requests.filter((r) => r.apiMethod === 'generateContent');
    expect(generated.map((r) => r.model)).toEqual(['gemini-2.5-flash', 'gemini-2.5-flash']);
    expect(
      (await stack.api<AuthKey>(admin, 'PATCH', `/api/auth-keys/${k.id}`, { allowedModels: null })).body.allowedModels,
    ).toBeNull();
    const ms = await Promise.all(
      gateways.map((g) =>
        msUntil(
          () => generate(g, k.key, 'gemini-2.5-pro').then((r) => r.status),
          (s) => s === 200,
          1000,
          'pro allowed',
        ),
      ),
    );
    expect(Math.max(...ms)).toBeLessThan(1000);
  });

  it('deactivating, deleting, rotating and expiring a key takes effect on both replicas within 1 s', async () => {
    const off = await createKey(stack, admin, { name: 'to deactivate' });
    await warm(off.key);
    expect((await stack.api(admin, 'PATCH', `/api/auth-keys/${off.id}`, { isActive: false })).status).toBe(200);
    expect(await refusedEverywhere(off.key)).toBeLessThan(1000);

    const gone = await createKey(stack, admin, { name: 'to delete' });
    await warm(gone.key);
    expect((await stack.api(admin, 'DELETE', `/api/auth-keys/${gone.id}`)).status).toBe(204);
    expect(await refusedEverywhere(gone.key)).toBeLessThan(1000);

    const rot = await createKey(stack, admin, { name: 'to rotate' });
    await warm(rot.key);
    const rotated = await stack.api<AuthKey & { key: string }>(admin, 'POST', `/api/auth-keys/${rot.id}/rotate`);
    expect(rotated.status).toBe(200);
    expect(await refusedEverywhere(rot.key)).toBeLessThan(1000);
    for (const g of gateways) expect(await listModels(g, rotated.body.key)).toBe(200);

    const exp = await createKey(stack, admin, { name: 'to expire' });
    await warm(exp.key);
    const at = Date.now() + 1500;
    expect(
      (await stack.api(admin, 'PATCH', `/api/auth-keys/${exp.id}`, { expiresAt: new Date(at).toISOString() })).status,
    ).toBe(200);
    for (const g of gateways) expect(await listModels(g, exp.key)).toBe(200);
    await refusedEverywhere(exp.key, 3000);
    expect(Date.now() - at).toBeLessThan(1000);
  });

  it('rotation with grace: the old secret works on both replicas until the grace ends, then stops', async () => {
    const k = await createKey(stack, admin, { name: 'graceful', rateLimitPerMinute: 1000 });
    await warm(k.key);
    const t0 = Date.now();
    const r = await stack.api<AuthKey & { key: string }>(admin, 'POST', `/api/auth-keys/${k.id}/rotate`, {
      graceSeconds: 3,
    });
    expect(r.status).toBe(200);
    const graceEnd = Date.parse(r.body.previousKeyExpiresAt!);
    expect(graceEnd - t0).toBeGreaterThanOrEqual(3000);
    expect(r.body.rateLimitPerMinute).toBe(1000);
    for (const g of gateways) {
      expect(await listModels(g, k.key)).toBe(200);
      expect(await listModels(g, r.body.key)).toBe(200);
    }
    await refusedEverywhere(k.key, 6000);
    const late = Date.now() - graceEnd;
    expect(late).toBeGreaterThanOrEqual(-50);
    expect(late).toBeLessThan(1000);
    for (const g of gateways) expect(await listModels(g, r.body.key)).toBe(200);
    expect((await stack.api(admin, 'POST', `/api/auth-keys/${k.id}/rotate`, { graceSeconds: -1 })).status).toBe(400);
  });

  it('counts once per request (a reused x-request-id too), streams with their tokens; one log per request, no secrets', async () => {
    const k = await createKey(stack, admin, { name: 'counted' });
    for (const g of gateways) {
      const r = await generate(g, k.key, 'gemini-2.5-flash', { 'x-request-id': 'client-trace-1' });
      expect(r.status).toBe(200);
      expect(r.headers.get('x-request-id')).toBe('client-trace-1');
    }
    mock.script({ type: 'stream', chunks: ['one ', 'two ', 'three'], intervalMs: 20, method: 'streamGenerateContent' });
    const stream = await fetch(`${gateways[1]}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`, {
      method: 'POST',
      headers: { 'x-goog-api-key': k.key, 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ parts: [{ text: 'secret prompt text' }] }] }),
    });
    expect(await stream.text()).toContain('three');
    const counted = await poll(
      () => keyOf(stack, admin, k.id),
      (x) => (x?.callCount ?? 0) >= 3,
      5000,
      'call count',
    );
    await new Promise((r) => setTimeout(r, 300)); // nothing more may arrive
    const key = (await keyOf(stack, admin, k.id))!;
    expect(key.callCount).toBe(3);
    // the three calls' tokens, counted once each: nothing was added after the third call was counted
    expect(key.promptTokens).toBeGreaterThan(0);
    expect(key.promptTokens).toBe(counted!.promptTokens);
    expect(key.outputTokens).toBe(counted!.outputTokens);
    expect(key.outputTokens).toBeGreaterThan(0);
    expect(key.lastUsedAt).not.toBeNull();

    const all = await stack.api<Page<RequestLog>>(admin, 'GET', `/api/logs?authKeyId=${k.id}`);
    expect(all.body.items).toHaveLength(3);
    expect(new Set(all.body.items.map((l) => l.id)).size).toBe(3);
    expect(all.body.items.find((l) => l.stream)).toMatchObject({ status: 200, method: 'streamGenerateContent' });
    expect(all.body.items.find((l) => l.stream)!.outputTokens).toBeGreaterThan(0);
    const text = JSON.stringify(all.body);
    for (const secret of [k.key, 'secret prompt text', 'one two three']) expect(text).not.toContain(secret);
    // paging with a cursor: every row once
    const p1 = await stack.api<Page<RequestLog>>(admin, 'GET', `/api/logs?authKeyId=${k.id}&limit=2`);
    expect(p1.body.items).toHaveLength(2);
    const p2 = await stack.api<Page<RequestLog>>(
      admin,
      'GET',
      `/api/logs?authKeyId=${k.id}&limit=2&cursor=${encodeURIComponent(p1.body.nextCursor!)}`,
    );
    expect([...p1.body.items, ...p2.body.items].map((l) => l.id).sort()).toEqual(
      all.body.items.map((l) => l.id).sort(),
    );
  });
});
