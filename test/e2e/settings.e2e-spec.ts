import { GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';
import WebSocket from 'ws';
import type { AuditEntry, AuthKeyWithSecret, Page, RequestLog, SettingsView } from '@gg/contracts';
import { startMockGemini, Stack, type MockGemini } from '@gg/testing';
import { createUserKey, fakeGeminiKey, poll } from './helpers';

jest.setTimeout(60_000);

/**
 * Runtime settings and the model catalogue (issue 17, points 2 and 3) on a real stack with two gateway replicas:
 * a change made through the admin is in force on both within 1 s, a bad or pinned one changes nothing, aliases
 * reach the real model through both SDKs, hidden models are in neither SDK's list, and every change is audited.
 */
describe('runtime settings and the model catalogue', () => {
  let mock: MockGemini;
  let stack: Stack;
  let token: string;
  let secret: string;
  const pool = [fakeGeminiKey(), fakeGeminiKey(), fakeGeminiKey()];

  const patch = (body: unknown) => stack.api<SettingsView>(token, 'PATCH', '/api/settings', body);
  const nativeList = async (gateway: number): Promise<string[]> => {
    const r = await fetch(`${stack.urlOf('gateway', gateway)}/v1beta/models?pageSize=1000`, {
      headers: { 'x-goog-api-key': secret },
    });
    expect(r.status).toBe(200);
    return ((await r.json()) as { models: { name: string }[] }).models.map((m) => m.name);
  };
  const generate = (gateway: number, model = 'gemini-2.5-flash') =>
    fetch(`${stack.urlOf('gateway', gateway)}/v1beta/models/${model}:generateContent`, {
      method: 'POST',
      headers: { 'x-goog-api-key': secret, 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ parts: [{ text: 'hi' }] }] }),
    });
  const upstream = (method: string) => mock.requests.filter((r) => r.apiMethod === method);
  /** Both replicas show (or no longer show) `name` in their lists. */
  const bothList = (name: string, listed: boolean, ms = 3000) =>
    poll(
      async () => [await nativeList(0), await nativeList(1)],
      (lists) => lists.every((l) => l.includes(name) === listed),
      ms,
      `${name} ${listed ? '' : 'not '}listed by both gateways`,
      { intervalMs: 10 },
    );

  beforeAll(async () => {
    mock = await startMockGemini();
    stack = await Stack.start({
      geminiBaseUrl: mock.url,
      gateways: 2,
      env: { KEY_SELECTION: 'round-robin', PINNED_SETTINGS: 'KEY_SELECTION' },
    });
    token = await stack.login();
    expect((await stack.api(token, 'POST', '/api/keys', { keys: pool })).status).toBe(201);
    secret = (await createUserKey(stack, token, 'settings-e2e')).key;
    await Promise.all([stack.gatewayReady(0), stack.gatewayReady(1)]);
  });

  afterAll(async () => {
    await stack?.stop();
    await mock?.close();
  });

  beforeEach(() => mock.reset());

  it('shows every setting with its value, default, variable and pinned state', async () => {
    const r = await stack.api<SettingsView>(token, 'GET', '/api/settings');
    expect(r.status).toBe(200);
    expect(r.body.settings.maxAttempts).toEqual({
      value: 3,
      default: 3,
      pinned: false,
      overridden: false,
      env: 'MAX_ATTEMPTS',
    });
    expect(r.body.settings.keySelection).toMatchObject({ value: 'round-robin', pinned: true, env: 'KEY_SELECTION' });
    expect(r.body.settings.hiddenModels.value).toEqual([]);
  });

  it('a change through the admin is in force on both gateways within 1 s, and audited', async () => {
    const r = await patch({ maxAttempts: 1, hiddenModels: ['models/gemini-2.5-pro'] });
    const answeredAt = Date.now();
    expect(r.status).toBe(200);
    expect(r.body.settings.maxAttempts).toMatchObject({ value: 1, overridden: true });
    expect(r.body.settings.hiddenModels.value).toEqual(['gemini-2.5-pro']);
    await bothList('models/gemini-2.5-pro', false, 1000);
    expect(Date.now() - answeredAt).toBeLessThan(1000);

    // one attempt only now: a key's 503 goes to the client instead of to another key, on either replica
    for (const gateway of [0, 1]) {
      mock.reset();
      mock.script({ type: 'error', status: 503, method: 'generateContent', times: 1 });
      expect((await generate(gateway)).status).toBe(503);
      expect(upstream('generateContent')).toHaveLength(1);
    }
    // back to the default (3): the same 503 is retried on another key
    expect((await patch({ maxAttempts: null })).body.settings.maxAttempts).toMatchObject({
      value: 3,
      overridden: false,
    });
    await poll(
      async () => {
        mock.reset();
        mock.script({ type: 'error', status: 503, method: 'generateContent', times: 1 });
        return (await generate(1)).status;
      },
      (status) => status === 200,
      1000,
      'retries back on gateway 1',
      { intervalMs: 20 },
    );
    expect(upstream('generateContent')).toHaveLength(2);

    const audit = await stack.api<Page<AuditEntry>>(token, 'GET', '/api/audit?action=settings.update');
    expect(audit.body.items.map((e) => e.changes)).toEqual([
      { maxAttempts: 3 },
      { maxAttempts: 1, hiddenModels: ['gemini-2.5-pro'] },
    ]);
    expect(audit.body.items[0]).toMatchObject({ targetType: 'settings', actorName: 'admin' });
  });

  it('refuses a bad value with a 400 naming the field and a pinned one with a 409; nothing is applied', async () => {
    const before = (await stack.api<SettingsView>(token, 'GET', '/api/settings')).body;
    const bad = await patch({ requestTimeoutSeconds: 60, keyMaxFailures: 0 });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('keyMaxFailures must be an integer from 1 to 1000');
    // checked against each other by key-pool
    const crossed = await patch({ backoffBaseSeconds: 600, backoffMaxSeconds: 60 });
    expect(crossed.status).toBe(400);
    expect(JSON.stringify(crossed.body)).toContain('backoffMaxSeconds must be at least backoffBaseSeconds');
    const pinned = await patch({ keySelection: 'random', maxAttempts: 2 });
    expect(pinned.status).toBe(409);
    expect(JSON.stringify(pinned.body)).toContain('keySelection is pinned by KEY_SELECTION');
    expect((await patch({ surprise: 1 })).status).toBe(400);
    // admins only
    const user = { username: 'settings-user', password: 'settings-user-pw', role: 'user' };
    expect((await stack.api(token, 'POST', '/api/users', user)).status).toBe(201);
    const userToken = await stack.login(user.username, user.password);
    expect((await stack.api(userToken, 'GET', '/api/settings')).status).toBe(403);
    expect((await stack.api(userToken, 'PATCH', '/api/settings', { maxAttempts: 2 })).status).toBe(403);
    const after = (await stack.api<SettingsView>(token, 'GET', '/api/settings')).body;
    expect(after).toEqual(before);
  });

  it('an alias reaches its real model through the OpenAI SDK and the Gemini SDK; the default model fills in', async () => {
    expect((await patch({ modelAliases: { fast: 'gemini-2.5-flash' }, defaultModel: 'fast' })).status).toBe(200);
    await bothList('models/fast', true);
    const since = new Date().toISOString();
    const openai = new OpenAI({ apiKey: secret, baseURL: `${stack.urlOf('gateway', 1)}/v1`, maxRetries: 0 });
    const chat = await openai.chat.completions.create({
      model: 'fast',
      messages: [{ role: 'user', content: 'hello' }],
    });
    expect(chat.choices[0].message.content).toBe('echo: hello');
    expect(upstream('generateContent').map((r) => r.model)).toEqual(['gemini-2.5-flash']);

    const ai = new GoogleGenAI({ apiKey: secret, httpOptions: { baseUrl: stack.urlOf('gateway', 0) } });
    await ai.models.generateContent({ model: 'fast', contents: 'hi' });
    // no model at all on the OpenAI route: the default (an alias itself)
    const plain = await fetch(`${stack.urlOf('gateway', 0)}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(plain.status).toBe(200);
    expect(upstream('generateContent').map((r) => r.model)).toEqual(Array(3).fill('gemini-2.5-flash'));
    // the request log names the real model (the lists asked for meanwhile name none)
    const logs = await poll(
      async () =>
        (
          await stack.api<Page<RequestLog>>(token, 'GET', `/api/logs?since=${encodeURIComponent(since)}`)
        ).body.items.filter((l) => l.model !== null),
      (items) => items.length === 3,
      5000,
      'three requests logged',
    );
    expect(logs.map((l) => l.model)).toEqual(Array(3).fill('gemini-2.5-flash'));

    // allow-lists see the real model: an alias of a listed model passes, an alias is no way around a list
    const keyFor = async (allowedModels: string[]) => {
      const r = await stack.api<AuthKeyWithSecret>(token, 'POST', '/api/auth-keys', { name: 'listed', allowedModels });
      expect(r.status).toBe(201);
      return new OpenAI({ apiKey: r.body.key, baseURL: `${stack.urlOf('gateway', 0)}/v1`, maxRetries: 0 });
    };
    const ask = (client: OpenAI) =>
      client.chat.completions.create({ model: 'fast', messages: [{ role: 'user', content: 'x' }] });
    await expect(ask(await keyFor(['gemini-2.5-flash']))).resolves.toMatchObject({ object: 'chat.completion' });
    await expect(ask(await keyFor(['gemini-2.5-pro', 'fast']))).rejects.toMatchObject({ status: 403 });
  });

  it('a Live session runs the real model of an alias, and a hidden model is refused at its setup', async () => {
    expect((await patch({ hiddenModels: ['gemini-2.5-pro'], modelAliases: { fast: 'gemini-2.5-flash' } })).status).toBe(
      200,
    );
    await bothList('models/fast', true);
    /** Opens a session on gateway 1 and sends its setup; answers the first message or the close. */
    const session = (model: string) =>
      new Promise<{ first?: unknown; code?: number }>((resolve, reject) => {
        const url = `${stack.urlOf('gateway', 1).replace(/^http/, 'ws')}/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent?key=${secret}`;
        const ws = new WebSocket(url);
        ws.on('open', () => ws.send(JSON.stringify({ setup: { model: `models/${model}` } })));
        ws.once('message', (d: Buffer) => {
          resolve({ first: JSON.parse(d.toString()) });
          ws.close();
        });
        ws.on('close', (code) => resolve({ code }));
        ws.on('error', reject);
      });
    expect(await session('fast')).toEqual({ first: { setupComplete: {} } });
    expect(mock.liveSessions.map((s) => s.model)).toEqual(['models/gemini-2.5-flash']);
    expect(await session('gemini-2.5-pro')).toEqual({ code: 1008 });
    expect(mock.liveSessions).toHaveLength(1);
  });

  it('a hidden model is in neither SDK list and is refused by name, with nothing sent upstream', async () => {
    expect((await patch({ hiddenModels: ['gemini-2.5-pro'], modelAliases: { fast: 'gemini-2.5-flash' } })).status).toBe(
      200,
    );
    await bothList('models/gemini-2.5-pro', false);
    const openai = new OpenAI({ apiKey: secret, baseURL: `${stack.urlOf('gateway', 0)}/v1`, maxRetries: 0 });
    const ids: string[] = [];
    for await (const m of openai.models.list()) ids.push(m.id);
    expect(ids).toContain('gemini-2.5-flash');
    expect(ids).toContain('fast');
    expect(ids).not.toContain('gemini-2.5-pro');
    const ai = new GoogleGenAI({ apiKey: secret, httpOptions: { baseUrl: stack.urlOf('gateway', 1) } });
    const names: string[] = [];
    for await (const m of await ai.models.list()) names.push(m.name ?? '');
    expect(names).toContain('models/gemini-2.5-flash');
    expect(names).not.toContain('models/gemini-2.5-pro');

    mock.reset();
    await expect(ai.models.get({ model: 'gemini-2.5-pro' })).rejects.toMatchObject({ status: 404 });
    expect((await generate(0, 'gemini-2.5-pro')).status).toBe(404);
    await expect(
      openai.chat.completions.create({ model: 'gemini-2.5-pro', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toMatchObject({ status: 404 });
    expect(mock.requests).toEqual([]);
  });
});
